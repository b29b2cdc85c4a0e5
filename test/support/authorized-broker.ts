// A broker with Kafka's StandardAuthorizer for the authorization tests: a SASL_PLAINTEXT listener
// with PLAIN users admin (a super user), alice and bob, and a PLAINTEXT listener whose clients are
// User:ANONYMOUS; no ACL at first and allow.everyone.if.no.acl.found=false, so everything not
// granted is denied. Clients as each user: kafkajs, or a raw protocol client already authenticated.
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { AclOperation, AclPermissionType, AclResourceType, ANY_ACL_FILTER, PatternType } from '../../src/metadata/acl.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { CreateAclsApi, DeleteAclsApi, SaslAuthenticateApi, SaslHandshakeApi } from '../../src/protocol/messages/index.js';
import { RawClient } from './raw-client.js';

export const USERS: Readonly<Record<'admin' | 'alice' | 'bob', string>> = { admin: 'admin-secret', alice: 'alice-secret', bob: 'bob-secret' };
export type User = keyof typeof USERS;

const JAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required ${Object.entries(USERS).map(([user, password]) => `user_${user}="${password}"`).join(' ')};`;

export interface Grant {
  principal: string;
  resourceType: number;
  resourceName: string;
  operation: number;
  patternType?: number;
  permissionType?: number;
  host?: string;
}

export class AuthorizedBroker {
  private constructor(readonly running: RunningBroker) {}

  static async start(config: Record<string, string> = {}): Promise<AuthorizedBroker> {
    const running = await startBroker({
      storage: 'memory',
      config: {
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0',
        'group.initial.rebalance.delay.ms': '0',
        'sasl.enabled.mechanisms': 'PLAIN',
        'sasl.jaas.config': JAAS,
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:admin',
        ...config,
      },
    });
    return new AuthorizedBroker(running);
  }

  port(listener: 'SASL_PLAINTEXT' | 'PLAINTEXT'): number {
    return this.running.broker.endpoints.find((endpoint) => endpoint.name === listener)!.port;
  }

  get saslBootstrap(): string {
    return `127.0.0.1:${this.port('SASL_PLAINTEXT')}`;
  }

  /** kafkajs as `user` (PLAIN over SASL_PLAINTEXT), or anonymous over PLAINTEXT. */
  kafka(user: User | 'anonymous', clientId = `authz-${user}`): Kafka {
    if (user === 'anonymous') return new Kafka({ clientId, brokers: [`127.0.0.1:${this.port('PLAINTEXT')}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    return new Kafka({ clientId, brokers: [this.saslBootstrap], sasl: { mechanism: 'plain', username: user, password: USERS[user] }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  }

  /** A raw protocol client authenticated as `user`. */
  async raw(user: User): Promise<RawClient> {
    const client = await RawClient.connect('127.0.0.1', this.port('SASL_PLAINTEXT'));
    const handshake = await client.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' });
    if (handshake.errorCode !== ErrorCode.NONE) throw new Error(`SaslHandshake: error ${handshake.errorCode}`);
    const authenticated = await client.request(SaslAuthenticateApi, 2, { authBytes: Buffer.from(`\0${user}\0${USERS[user]}`) });
    if (authenticated.errorCode !== ErrorCode.NONE) throw new Error(`SaslAuthenticate: error ${authenticated.errorCode}`);
    return client;
  }

  /** Creates ACLs as admin (ALLOW, LITERAL and any host unless given); throws if one is refused. */
  async grant(...grants: Grant[]): Promise<void> {
    const admin = await this.raw('admin');
    try {
      const response = await admin.request(CreateAclsApi, 3, {
        creations: grants.map((grant) => ({
          resourceType: grant.resourceType,
          resourceName: grant.resourceName,
          resourcePatternType: grant.patternType ?? PatternType.LITERAL,
          principal: grant.principal,
          host: grant.host ?? '*',
          operation: grant.operation,
          permissionType: grant.permissionType ?? AclPermissionType.ALLOW,
        })),
      });
      const refused = response.results.find((result) => result.errorCode !== ErrorCode.NONE);
      if (refused) throw new Error(`CreateAcls refused: ${refused.errorCode} ${refused.errorMessage}`);
    } finally {
      await admin.close();
    }
  }

  /** Removes every ACL, as admin. */
  async revokeAll(): Promise<void> {
    const admin = await this.raw('admin');
    try {
      const { resourceType, resourceName, patternType, principal, host, operation, permissionType } = ANY_ACL_FILTER;
      await admin.request(DeleteAclsApi, 3, { filters: [{ resourceTypeFilter: resourceType, resourceNameFilter: resourceName, patternTypeFilter: patternType, principalFilter: principal, hostFilter: host, operation, permissionType }] });
    } finally {
      await admin.close();
    }
  }

  close(): Promise<void> {
    return this.running.close();
  }
}

export { AclOperation, AclPermissionType, AclResourceType, PatternType };
