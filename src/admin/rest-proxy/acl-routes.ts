// ACLs as Confluent REST Proxy v3 has them: GET (search) and DELETE with query parameters, POST
// (create one) with a body; the names are Kafka's (TOPIC, LITERAL, READ, ALLOW), codes go to the
// broker through the admin client's DescribeAcls, CreateAcls and DeleteAcls.
import type { FastifyInstance } from 'fastify';
import type { AclBindingInfo, AclFilter } from '../../client/admin-client.js';
import {
  aclOperationName,
  aclPermissionTypeName,
  aclResourceTypeName,
  parseAclOperation,
  parseAclPermissionType,
  parseAclResourceType,
  parsePatternType,
  patternTypeName,
} from '../../metadata/acl.js';
import { type Query, type RouteContext, type Routes, jsonObject, list } from './context.js';
import { badRequest, kafkaError, unprocessable } from './errors.js';

export function registerAclRoutes(app: FastifyInstance, routes: Routes): void {
  app.get('/v3/clusters/:cluster_id/acls', routes.handler(async (context) => {
    const acls = await context.client.admin.describeAcls(filterOf(context.request.query as Query));
    return list('KafkaAclList', `${context.clusterUrl}/acls`, acls.map((acl) => aclData(context, acl)));
  }));
  app.post('/v3/clusters/:cluster_id/acls', routes.handler(async (context) => {
    const body = jsonObject(context.request);
    const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : undefined);
    const binding: AclBindingInfo = {
      resourceType: code(text('resource_type'), 'resource_type', parseAclResourceType, false, unprocessable),
      resourceName: required(text('resource_name'), 'resource_name'),
      patternType: code(text('pattern_type'), 'pattern_type', parsePatternType, false, unprocessable),
      principal: required(text('principal'), 'principal'),
      host: text('host') ?? '*',
      operation: code(text('operation'), 'operation', parseAclOperation, false, unprocessable),
      permissionType: code(text('permission'), 'permission', parseAclPermissionType, false, unprocessable),
    };
    const [result] = await context.client.admin.createAcls([binding]);
    if (result && result.errorCode !== 0) throw kafkaError(result.errorCode, `creating the ACL: ${result.error}${result.message ? ` (${result.message})` : ''}`);
    context.reply.code(201);
    return '';
  }));
  app.delete('/v3/clusters/:cluster_id/acls', routes.handler(async (context) => {
    const query = context.request.query as Query;
    if (query.resource_type === undefined) throw badRequest('resource_type is required to delete ACLs (ANY to match every type)');
    const [result] = await context.client.admin.deleteAcls([filterOf(query)]);
    if (result && result.errorCode !== 0) throw kafkaError(result.errorCode, `deleting ACLs: ${result.error}${result.message ? ` (${result.message})` : ''}`);
    return { data: (result?.matching ?? []).filter((acl) => acl.errorCode === 0).map((acl) => aclData(context, acl)) };
  }));
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw unprocessable(`${name} is required`);
  return value;
}

/** A Kafka enum name as its code; `optional` ones default to ANY; 400 (or 422) naming the field for an unknown name. */
function code(text: string | undefined, name: string, parse: (text: string) => number, optional: boolean, fail: (message: string) => Error = badRequest): number {
  if (text === undefined || text === '') {
    if (optional) return 1;
    throw fail(`${name} is required`);
  }
  const value = parse(text);
  if (value === 0) throw fail(`${name} '${text}' is not one Kafka knows`);
  return value;
}

function filterOf(query: Query): AclFilter {
  return {
    resourceType: code(query.resource_type, 'resource_type', parseAclResourceType, true),
    resourceName: query.resource_name || null,
    patternType: code(query.pattern_type, 'pattern_type', parsePatternType, true),
    principal: query.principal || null,
    host: query.host || null,
    operation: code(query.operation, 'operation', parseAclOperation, true),
    permissionType: code(query.permission, 'permission', parseAclPermissionType, true),
  };
}

function aclData(context: RouteContext, acl: AclBindingInfo): Record<string, unknown> {
  return {
    kind: 'KafkaAcl',
    metadata: { self: `${context.clusterUrl}/acls?resource_type=${aclResourceTypeName(acl.resourceType)}&resource_name=${encodeURIComponent(acl.resourceName)}&pattern_type=${patternTypeName(acl.patternType)}&principal=${encodeURIComponent(acl.principal)}&host=${encodeURIComponent(acl.host)}&operation=${aclOperationName(acl.operation)}&permission=${aclPermissionTypeName(acl.permissionType)}` },
    cluster_id: context.clusterId,
    resource_type: aclResourceTypeName(acl.resourceType),
    resource_name: acl.resourceName,
    pattern_type: patternTypeName(acl.patternType),
    principal: acl.principal,
    host: acl.host,
    operation: aclOperationName(acl.operation),
    permission: aclPermissionTypeName(acl.permissionType),
  };
}
