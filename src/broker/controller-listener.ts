// What a controller listener (controller.listener.names) serves, as on Kafka's controllers: the
// Raft RPCs between voters (Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch of __cluster_metadata,
// FetchSnapshot, UpdateRaftVoter), the requests brokers send the active controller
// (BrokerRegistration, BrokerHeartbeat, AllocateProducerIds, AlterPartition, AssignReplicasToDirs,
// and client requests other brokers forward to the active controller, in an Envelope or, for
// internal topics, as CreateTopics), the
// quorum's admin requests (DescribeQuorum, AddRaftVoter, RemoveRaftVoter: answered by this node's
// Raft node, so a controller that is not the leader answers NOT_LEADER_OR_FOLLOWER; a broker
// listener forwards the same requests to the active controller), plus ApiVersions, and SaslHandshake
// and SaslAuthenticate for a SASL controller listener (nodes log in before anything else). Client APIs
// are not served here: a client that connects to a controller listener and asks for one has its
// connection closed, as for any unknown API. The Raft RPCs are served from the moment the node
// starts, before its broker side serves anyone: voters must elect a leader before any of them can
// finish starting.
// Authorization (with an authorizer, as Kafka's ControllerApis): the Raft RPCs, the brokers'
// requests and Envelope need CLUSTER_ACTION on the cluster, DescribeQuorum DESCRIBE, AddRaftVoter
// and RemoveRaftVoter ALTER, CreateTopics CREATE (on the cluster or each topic); a request refused
// is answered CLUSTER_AUTHORIZATION_FAILED (TOPIC_AUTHORIZATION_FAILED per topic). The nodes'
// principals (their TLS certificates, or User:ANONYMOUS on PLAINTEXT) belong in super.users.
import { ErrorCode } from '../base/error-codes.js';
import { AclOperation } from '../metadata/acl.js';
import type { Authorization } from './authorizer/authorization.js';
import type { SaslAuthenticateOutcome, SaslAuthenticator } from './sasl-authenticator.js';
import { KafkaError } from '../base/kafka-error.js';
import type { Logger } from '../base/logger.js';
import { ZERO_UUID } from '../base/uuid.js';
import { decodeRequestHeader, encodeResponseHeader, responseHeaderVersion } from '../protocol/headers.js';
import {
  AllocateProducerIdsApi,
  type AllocateProducerIdsRequest,
  AlterPartitionApi,
  type AlterPartitionRequest,
  type AnyApiDescriptor,
  AssignReplicasToDirsApi,
  type AssignReplicasToDirsRequest,
  SaslAuthenticateApi,
  type SaslAuthenticateRequest,
  SaslHandshakeApi,
  type SaslHandshakeRequest,
  ApiVersionsApi,
  BeginQuorumEpochApi,
  BrokerHeartbeatApi,
  type BrokerHeartbeatRequest,
  BrokerRegistrationApi,
  CreateTopicsApi,
  type CreateTopicsRequest,
  DescribeQuorumApi,
  type DescribeQuorumRequest,
  EnvelopeApi,
  type EnvelopeRequest,
  type BrokerRegistrationRequest,
  EndQuorumEpochApi,
  FetchApi,
  type FetchRequest,
  FetchSnapshotApi,
  type FetchSnapshotRequest,
  AddRaftVoterApi,
  type AddRaftVoterRequest,
  type AddRaftVoterResponse,
  RemoveRaftVoterApi,
  type RemoveRaftVoterRequest,
  type RemoveRaftVoterResponse,
  UpdateRaftVoterApi,
  VoteApi,
} from '../protocol/messages/index.js';
import { ProtocolError } from '../protocol/primitives/protocol-error.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import type { RaftMetadataQuorum } from '../quorum/raft-metadata-quorum.js';
import { METADATA_TOPIC_ID } from '../quorum/raft-node.js';
import type { ControllerRequests } from './controller-channel.js';
import { quorumFeatures } from './handlers/18-api-versions.js';
import { describeQuorumResponse } from './handlers/55-describe-quorum.js';
import type { ConnectionInfo, FrameHandler, FrameOutcome } from './network/index.js';
import { deserializePrincipal } from './envelope-principal.js';
import { ANONYMOUS } from './network/ssl-principal.js';

// Declared beside its implementation (ControllerChannel), so that the channel does not depend on
// this listener, which uses request handlers' shared code (DescribeQuorum).
export type { ControllerRequests } from './controller-channel.js';

interface Served {
  readonly api: AnyApiDescriptor;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** The APIs and versions a controller listener serves. */
export const CONTROLLER_LISTENER_APIS: readonly Served[] = [
  { api: FetchApi, minVersion: 13, maxVersion: 17 },
  { api: ApiVersionsApi, minVersion: 0, maxVersion: 4 },
  { api: VoteApi, minVersion: 0, maxVersion: 2 },
  { api: BeginQuorumEpochApi, minVersion: 0, maxVersion: 1 },
  { api: EndQuorumEpochApi, minVersion: 0, maxVersion: 1 },
  { api: BrokerRegistrationApi, minVersion: 0, maxVersion: 4 },
  { api: AllocateProducerIdsApi, minVersion: 0, maxVersion: 0 },
  { api: CreateTopicsApi, minVersion: 7, maxVersion: 7 },
  { api: EnvelopeApi, minVersion: 0, maxVersion: 0 },
  { api: BrokerHeartbeatApi, minVersion: 0, maxVersion: 1 },
  { api: FetchSnapshotApi, minVersion: 0, maxVersion: 1 },
  { api: AddRaftVoterApi, minVersion: 0, maxVersion: 0 },
  { api: RemoveRaftVoterApi, minVersion: 0, maxVersion: 0 },
  { api: UpdateRaftVoterApi, minVersion: 0, maxVersion: 0 },
  { api: DescribeQuorumApi, minVersion: 0, maxVersion: 2 },
  { api: AlterPartitionApi, minVersion: 2, maxVersion: 3 },
  { api: AssignReplicasToDirsApi, minVersion: 0, maxVersion: 0 },
  { api: SaslHandshakeApi, minVersion: 0, maxVersion: 1 },
  { api: SaslAuthenticateApi, minVersion: 0, maxVersion: 2 },
] as unknown as Served[];

/**
 * AddRaftVoter or RemoveRaftVoter (KIP-853) on this node's Raft node, which takes the change only
 * as the quorum leader (else NOT_LEADER_OR_FOLLOWER): the one path for both listeners, this one's
 * and the broker listener's (handlers 80 and 81, which forward to the active controller first).
 */
export function changeVoters(quorum: RaftMetadataQuorum, apiKey: number, request: AddRaftVoterRequest | RemoveRaftVoterRequest): Promise<AddRaftVoterResponse & RemoveRaftVoterResponse> {
  return quorum.handle({ apiKey, apiVersion: 0, body: request }) as Promise<AddRaftVoterResponse & RemoveRaftVoterResponse>;
}

/** A SASL request's answer, and whether the connection stays open after it. */
type SaslAnswer = { response: unknown; ok: boolean };

export interface ControllerListenerOptions {
  readonly quorum: RaftMetadataQuorum;
  /** The controller's request handling; undefined until the node has started (then: retriable error). */
  readonly controllerRequests: () => ControllerRequests | undefined;
  /** The broker's own dispatcher, for requests other brokers forward (undefined until it serves). */
  readonly forwardedDispatcher: () => FrameHandler | undefined;
  /** Which APIs may arrive in an Envelope (the handlers marked forwardToController). */
  readonly forwardableApiKeys: ReadonlySet<number>;
  /** The listener a forwarded request is handled as (the inter-broker listener). */
  readonly forwardedListenerName: string;
  /** Who may send what here (every answer yes without an authorizer). */
  readonly authorization: Authorization;
  /** The SASL exchange of a SASL controller listener's connections (nodes logging in). */
  readonly sasl: SaslAuthenticator;
  readonly logger: Logger;
}

/** The cluster operation each API needs on a controller listener (ApiVersions: none; CreateTopics: see `refused`). */
const REQUIRED_OPERATION = new Map<number, number>([
  [DescribeQuorumApi.apiKey, AclOperation.DESCRIBE],
  [AddRaftVoterApi.apiKey, AclOperation.ALTER],
  [RemoveRaftVoterApi.apiKey, AclOperation.ALTER],
]);

export function createControllerListenerHandler(options: ControllerListenerOptions): FrameHandler {
  const byKey = new Map(CONTROLLER_LISTENER_APIS.map((served) => [served.api.apiKey, served]));
  const logger = options.logger.child('controller-listener');
  /** The answer to a request the connection's principal may not make, or undefined when it may. */
  const refused = (apiKey: number, body: unknown, connection: ConnectionInfo): unknown => {
    const { authorization } = options;
    if (apiKey === ApiVersionsApi.apiKey || apiKey === SaslHandshakeApi.apiKey || apiKey === SaslAuthenticateApi.apiKey || !authorization.enabled) return undefined;
    if (apiKey === CreateTopicsApi.apiKey) {
      const request = body as CreateTopicsRequest;
      if (authorization.cluster(connection, AclOperation.CREATE, false)) return undefined;
      const denied = request.topics.filter(({ name }) => !authorization.topic(connection, AclOperation.CREATE, name));
      if (denied.length === 0) return undefined;
      // Kafka refuses the topics it may not create and creates the others; brokers ask for one internal topic at a time.
      return { throttleTimeMs: 0, topics: request.topics.map(({ name }) => ({ name, topicId: ZERO_UUID, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.', numPartitions: -1, replicationFactor: -1, configs: null })) };
    }
    if (authorization.cluster(connection, REQUIRED_OPERATION.get(apiKey) ?? AclOperation.CLUSTER_ACTION)) return undefined;
    return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED };
  };
  return (frame, connection) => {
    // A SASL listener's connection authenticates before anything else (raw tokens included).
    const screened = options.sasl.screen(frame, connection);
    if (screened !== undefined) return screened;
    if (frame.length < 8) return close(`frame of ${frame.length} bytes is too short for a request header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const served = byKey.get(apiKey);
    if (!served || apiVersion < served.minVersion || apiVersion > served.maxVersion) {
      return close(`api key ${apiKey} v${apiVersion} is not served on a controller listener`);
    }
    let correlationId: number;
    let body: unknown;
    try {
      const reader = new Reader(frame);
      correlationId = decodeRequestHeader(reader).correlationId;
      body = served.api.decodeRequest(reader, apiVersion);
    } catch (error) {
      if (error instanceof ProtocolError) return close(`malformed ${served.api.name} v${apiVersion} request: ${error.message}`);
      throw error;
    }
    const respond = (response: unknown): FrameOutcome => {
      const writer = new Writer();
      encodeResponseHeader(writer, responseHeaderVersion(apiKey, apiVersion), correlationId);
      served.api.encodeResponse(writer, apiVersion, response);
      return { kind: 'respond', chunks: writer.finish() };
    };
    const refusal = refused(apiKey, body, connection);
    if (refusal !== undefined) return respond(refusal);
    if (apiKey === SaslHandshakeApi.apiKey || apiKey === SaslAuthenticateApi.apiKey) {
      // As handlers 17 and 36: a refused mechanism or failed authentication is answered, then the connection closes.
      const settle = ({ response, ok }: SaslAnswer): FrameOutcome => {
        if (ok) return respond(response);
        const answered = respond(response) as Extract<FrameOutcome, { kind: 'respond' }>;
        return { kind: 'close', reason: `${served.api.name} refused`, lastResponse: answered.chunks };
      };
      const answered = saslAnswer(apiKey, apiVersion, body, connection);
      // A promise while an OAUTHBEARER token's signature is checked.
      return answered instanceof Promise ? answered.then(settle) : settle(answered);
    }
    return answer(apiKey, body).then(respond, (error: unknown) => {
      logger.error('controller listener request failed', { api: served.api.name, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      return close(`${served.api.name} failed: ${String(error)}`);
    });
  };

  function saslAnswer(apiKey: number, apiVersion: number, body: unknown, connection: ConnectionInfo): SaslAnswer | Promise<SaslAnswer> {
    if (apiKey === SaslHandshakeApi.apiKey) {
      const response = options.sasl.handshake(connection, (body as SaslHandshakeRequest).mechanism, apiVersion);
      return { response, ok: response.errorCode !== ErrorCode.UNSUPPORTED_SASL_MECHANISM };
    }
    const toAnswer = ({ errorCode, errorMessage, authBytes, sessionLifetimeMs }: SaslAuthenticateOutcome): SaslAnswer => ({
      response: { errorCode, errorMessage, authBytes, sessionLifetimeMs: BigInt(sessionLifetimeMs) },
      ok: errorCode === ErrorCode.NONE,
    });
    const outcome = options.sasl.authenticate(connection, (body as SaslAuthenticateRequest).authBytes);
    return outcome instanceof Promise ? outcome.then(toAnswer) : toAnswer(outcome);
  }

  async function answer(apiKey: number, body: unknown): Promise<unknown> {
    switch (apiKey) {
      case ApiVersionsApi.apiKey:
        return {
          errorCode: ErrorCode.NONE,
          apiKeys: CONTROLLER_LISTENER_APIS.map(({ api, minVersion, maxVersion }) => ({ apiKey: api.apiKey, minVersion, maxVersion })),
          throttleTimeMs: 0,
          ...quorumFeatures(options.quorum.raft),
          zkMigrationReady: false,
        };
      case FetchApi.apiKey: {
        const request = body as FetchRequest;
        const topic = request.topics[0];
        if (request.topics.length !== 1 || topic?.topicId !== METADATA_TOPIC_ID) {
          throw new KafkaError(ErrorCode.INVALID_REQUEST, 'a controller listener serves fetches of __cluster_metadata only');
        }
        return options.quorum.handle({ apiKey, apiVersion: 0, body, fromNodeId: request.replicaState?.replicaId ?? request.replicaId ?? -1 });
      }
      case FetchSnapshotApi.apiKey:
        return options.quorum.handle({ apiKey, apiVersion: 0, body, fromNodeId: (body as FetchSnapshotRequest).replicaId });
      case VoteApi.apiKey:
      case BeginQuorumEpochApi.apiKey:
      case EndQuorumEpochApi.apiKey:
      case UpdateRaftVoterApi.apiKey:
        return options.quorum.handle({ apiKey, apiVersion: 0, body });
      case AddRaftVoterApi.apiKey:
      case RemoveRaftVoterApi.apiKey:
        return changeVoters(options.quorum, apiKey, body as AddRaftVoterRequest | RemoveRaftVoterRequest);
      case DescribeQuorumApi.apiKey:
        return describeQuorumResponse(body as DescribeQuorumRequest, options.quorum);
      case BrokerRegistrationApi.apiKey: {
        const controller = options.controllerRequests();
        if (!controller) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, brokerEpoch: -1n };
        return controller.registerBroker(body as BrokerRegistrationRequest);
      }
      case BrokerHeartbeatApi.apiKey: {
        const controller = options.controllerRequests();
        if (!controller) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, isCaughtUp: false, isFenced: true, shouldShutDown: false };
        return controller.brokerHeartbeatRequest(body as BrokerHeartbeatRequest);
      }
      case AlterPartitionApi.apiKey: {
        const controller = options.controllerRequests();
        if (!controller) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, topics: [] };
        return controller.alterPartitionRequest(body as AlterPartitionRequest);
      }
      case AssignReplicasToDirsApi.apiKey: {
        const controller = options.controllerRequests();
        if (!controller) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, directories: [] };
        return controller.assignReplicasToDirsRequest(body as AssignReplicasToDirsRequest);
      }
      case AllocateProducerIdsApi.apiKey: {
        const controller = options.controllerRequests();
        if (!controller) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, producerIdStart: -1n, producerIdLen: 0 };
        return controller.allocateProducerIds(body as AllocateProducerIdsRequest);
      }
      case CreateTopicsApi.apiKey: {
        const request = body as CreateTopicsRequest;
        const controller = options.controllerRequests();
        if (controller) return controller.createTopicsRequest(request);
        return {
          throttleTimeMs: 0,
          topics: request.topics.map(({ name }) => ({ name, topicId: ZERO_UUID, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: null, numPartitions: -1, replicationFactor: -1, configs: null })),
        };
      }
      case EnvelopeApi.apiKey: {
        const request = body as EnvelopeRequest;
        const dispatch = options.forwardedDispatcher();
        if (!dispatch || !options.quorum.isActive) return { responseData: null, errorCode: ErrorCode.NOT_CONTROLLER };
        if (request.requestData.length < 8 || !options.forwardableApiKeys.has(request.requestData.readInt16BE(0))) {
          return { responseData: null, errorCode: ErrorCode.INVALID_REQUEST };
        }
        let principal = ANONYMOUS;
        try {
          if (request.requestPrincipal !== null) principal = deserializePrincipal(request.requestPrincipal);
        } catch {
          return { responseData: null, errorCode: ErrorCode.PRINCIPAL_DESERIALIZATION_FAILURE };
        }
        const outcome = await dispatch(request.requestData, {
          id: -1,
          remoteAddress: addressText(request.clientHostAddress),
          remotePort: 0,
          listenerName: options.forwardedListenerName,
          // The client's, as the forwarding broker authenticated it: the request is authorized as the client's.
          principal,
          authenticated: true,
          forwarded: true,
        });
        if (outcome.kind === 'none') return { responseData: null, errorCode: ErrorCode.NONE };
        if (outcome.kind === 'close') return { responseData: null, errorCode: ErrorCode.INVALID_REQUEST };
        const responseData = Buffer.concat(outcome.chunks);
        outcome.onSent?.();
        return { responseData, errorCode: ErrorCode.NONE };
      }
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `api key ${apiKey}`);
    }
  }

  function close(reason: string): FrameOutcome {
    logger.warn('closing connection', { reason });
    return { kind: 'close', reason };
  }
}

/** The client address an Envelope carries (4 or 16 raw bytes) as text. */
function addressText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) return Array.from({ length: 8 }, (_, index) => bytes.readUInt16BE(index * 2).toString(16)).join(':');
  return 'unknown';
}
