// DescribeCluster (key 60), versions 0-2.
// The brokers, the controller and the cluster id; the Java admin client's cluster description.
// Brokers are the registered, unfenced ones, described by their endpoints for the listener the
// request arrived on (as Metadata lists them); the controller id is the active controller when it
// is among them; the cluster's authorized operations when asked.
// Authorizes nothing but that bit field, as Kafka's AuthHelper: the operations allowed on the
// cluster when DESCRIBE on it is (its denial logged), else 0.
// Version notes: v1 adds EndpointType; only brokers (1) are described, controllers are not exposed.
// v2 (Kafka 4.0, KIP-1073) adds IncludeFencedBrokers, which lists the fenced brokers too, and each
// broker's IsFenced. The controller id is chosen among the unfenced brokers either way.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation, AclResourceType, CLUSTER_RESOURCE_NAME } from '../../metadata/acl.js';
import { DescribeClusterApi } from '../../protocol/messages/index.js';
import { advertisedBrokers, advertisedControllerAmong } from '../advertised-brokers.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizedOperations } from '../authorized-operations.js';
import { advertisedControllerId } from '../broker-services.js';
import { defineHandler } from './handler.js';

const ENDPOINT_TYPE_BROKER = 1;

export const describeClusterHandler = defineHandler({
  api: DescribeClusterApi,
  minVersion: 0,
  maxVersion: 2,
  handle(request, { broker, connection }) {
    if ((request.endpointType ?? ENDPOINT_TYPE_BROKER) !== ENDPOINT_TYPE_BROKER) {
      return { ...errorBody(request.endpointType ?? ENDPOINT_TYPE_BROKER, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE), clusterId: broker.clusterId };
    }
    const brokers = advertisedBrokers(broker.image, connection.listenerName);
    const listed = request.includeFencedBrokers ? advertisedBrokers(broker.image, connection.listenerName, true) : brokers;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: ENDPOINT_TYPE_BROKER,
      clusterId: broker.clusterId,
      controllerId: advertisedControllerAmong(brokers, advertisedControllerId(broker), broker.nodeId),
      brokers: listed.map(({ nodeId, host, port, rack, fenced }) => ({ brokerId: nodeId, host, port, rack, isFenced: fenced })),
      clusterAuthorizedOperations: !request.includeClusterAuthorizedOperations
        ? AUTHORIZED_OPERATIONS_OMITTED
        : broker.authorization.cluster(connection, AclOperation.DESCRIBE)
          ? authorizedOperations('cluster', true, (operation) => broker.authorization.authorize(connection, operation, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, false))
          : 0,
    };
  },
  errorResponse(request, errorCode) {
    return errorBody(request.endpointType ?? ENDPOINT_TYPE_BROKER, errorCode);
  },
});

function errorBody(endpointType: number, errorCode: number) {
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage: null,
    endpointType,
    clusterId: '',
    controllerId: -1,
    brokers: [],
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}
