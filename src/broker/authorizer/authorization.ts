// What handlers ask before acting (DESIGN.md decision 2: decode, validate, authorize, delegate):
// may this connection's principal, from its address, do an operation on a resource? With no
// authorizer configured (authorizer.class.name empty) every answer is yes. Otherwise Kafka's
// StandardAuthorizer decides from the ACLs in this broker's metadata image; it is rebuilt when the
// image's ACLs change (an ACL record or a snapshot), so a new or removed ACL counts from the next
// request after the broker replays it.
import type { Logger } from '../../base/logger.js';
import { AclResourceType, CLUSTER_RESOURCE_NAME } from '../../metadata/acl.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import type { AuthorizerSettings } from '../broker-config.js';
import type { ConnectionInfo } from '../network/index.js';
import { StandardAuthorizer } from './standard-authorizer.js';

/** The client's address as Kafka names hosts in ACLs: an IPv4-mapped IPv6 address as plain IPv4. */
export function aclHost(remoteAddress: string): string {
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
}

export class Authorization {
  readonly #settings: AuthorizerSettings | null;
  readonly #image: MetadataImage;
  readonly #logger: Logger;
  #authorizer: StandardAuthorizer | undefined;
  #aclVersion = -1;

  constructor(settings: AuthorizerSettings | null, image: MetadataImage, logger: Logger) {
    this.#settings = settings;
    this.#image = image;
    this.#logger = logger.child('authorizer');
  }

  /** Whether an authorizer is configured (the ACL APIs answer SECURITY_DISABLED without one). */
  get enabled(): boolean {
    return this.#settings !== null;
  }

  /** The ACLs as this broker holds them now; undefined without an authorizer. */
  get authorizer(): StandardAuthorizer | undefined {
    if (this.#settings === null) return undefined;
    if (this.#authorizer === undefined || this.#aclVersion !== this.#image.aclVersion) {
      const authorizer = new StandardAuthorizer({ ...this.#settings, logger: this.#logger });
      for (const acl of this.#image.acls.values()) authorizer.addAcl(acl);
      this.#authorizer = authorizer;
      this.#aclVersion = this.#image.aclVersion;
    }
    return this.#authorizer;
  }

  /**
   * May `connection`'s principal do `operation` on the resource? `logIfDenied: false` for resources
   * the client did not name (a listing filtered by what it may see), as Kafka logs them.
   */
  authorize(connection: ConnectionInfo, operation: number, resourceType: number, resourceName: string, logIfDenied = true): boolean {
    const authorizer = this.authorizer;
    if (authorizer === undefined) return true;
    return authorizer.authorize({ principal: connection.principal, host: aclHost(connection.remoteAddress), operation, resourceType, resourceName, logIfDenied, logIfAllowed: false });
  }

  /** `operation` on the cluster (kafka-cluster). */
  cluster(connection: ConnectionInfo, operation: number, logIfDenied = true): boolean {
    return this.authorize(connection, operation, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, logIfDenied);
  }

  topic(connection: ConnectionInfo, operation: number, topic: string, logIfDenied = true): boolean {
    return this.authorize(connection, operation, AclResourceType.TOPIC, topic, logIfDenied);
  }

  group(connection: ConnectionInfo, operation: number, groupId: string, logIfDenied = true): boolean {
    return this.authorize(connection, operation, AclResourceType.GROUP, groupId, logIfDenied);
  }

  transactionalId(connection: ConnectionInfo, operation: number, transactionalId: string, logIfDenied = true): boolean {
    return this.authorize(connection, operation, AclResourceType.TRANSACTIONAL_ID, transactionalId, logIfDenied);
  }

  /** Kafka's authorizeByResourceType (KIP-679): may the principal do `operation` on some resource of the type? */
  authorizeByResourceType(connection: ConnectionInfo, operation: number, resourceType: number): boolean {
    const authorizer = this.authorizer;
    if (authorizer === undefined) return true;
    return authorizer.authorizeByResourceType(connection.principal, aclHost(connection.remoteAddress), operation, resourceType);
  }
}
