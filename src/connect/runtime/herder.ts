// The herder: what the REST API asks of a Connect worker (Kafka Connect's Herder). The standalone
// herder keeps connectors in this process; the distributed one shares them with the other workers
// of its group. Both answer in Kafka Connect's REST shapes (snake_case fields, as on the wire), and
// refuse with a ConnectRestError carrying Connect's HTTP status.

export type ConnectorType = 'source' | 'sink' | 'unknown';
export type ConnectorState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'RESTARTING' | 'STOPPED';

/** The state a connector is created in (POST /connectors' initial_state, KIP-980). */
export type InitialState = 'RUNNING' | 'PAUSED' | 'STOPPED';

export interface ConnectorTaskId {
  readonly connector: string;
  readonly task: number;
}

/** GET /connectors/{name}, and the body of a create or update. */
export interface ConnectorInfo {
  readonly name: string;
  readonly config: Record<string, string>;
  readonly tasks: ConnectorTaskId[];
  readonly type: ConnectorType;
}

export interface StateInfo {
  readonly state: ConnectorState;
  readonly worker_id: string;
  /** A failure's stack trace, present only when FAILED. */
  readonly trace?: string;
}

export interface TaskStateInfo extends StateInfo {
  readonly id: number;
}

/** GET /connectors/{name}/status. */
export interface ConnectorStateInfo {
  readonly name: string;
  readonly connector: StateInfo;
  readonly tasks: TaskStateInfo[];
  readonly type: ConnectorType;
}

/** One entry of GET /connectors/{name}/tasks. */
export interface TaskInfo {
  readonly id: ConnectorTaskId;
  readonly config: Record<string, string>;
}

/** One entry of GET /connector-plugins. */
export interface PluginInfo {
  readonly class: string;
  readonly type: 'source' | 'sink' | 'transformation' | 'predicate' | 'converter' | 'header_converter';
  readonly version: string;
}

/** A key's definition as /config/validate and /connector-plugins/{plugin}/config report it. */
export interface ConfigKeyInfo {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly default_value: string | null;
  readonly importance: string;
  readonly documentation: string;
  readonly group: string | null;
  readonly order_in_group: number;
  readonly width: string;
  readonly display_name: string;
  readonly dependents: string[];
}

export interface ConfigValueInfo {
  readonly name: string;
  readonly value: string | null;
  readonly recommended_values: string[];
  readonly errors: string[];
  readonly visible: boolean;
}

/** PUT /connector-plugins/{type}/config/validate. */
export interface ConfigInfos {
  readonly name: string;
  readonly error_count: number;
  readonly groups: string[];
  readonly configs: { definition: ConfigKeyInfo; value: ConfigValueInfo }[];
}

/** A source partition and offset ({ "filename": ... } / { "position": ... }), or a sink's
 * ({ kafka_topic, kafka_partition } / { kafka_offset }); offset null resets that partition. */
export interface ConnectorOffset {
  readonly partition: Record<string, unknown>;
  readonly offset: Record<string, unknown> | null;
}

export interface RestartRequest {
  readonly includeTasks: boolean;
  readonly onlyFailed: boolean;
}

export interface Herder {
  readonly workerId: string;
  /** The Kafka cluster's id, for GET /. */
  kafkaClusterId(): string;

  connectors(): string[];
  connectorInfo(name: string): Promise<ConnectorInfo>;
  connectorConfig(name: string): Promise<Record<string, string>>;
  /** Creates or (when allowReplace) replaces a connector's config; `created` says which. A new connector starts in `initialState` (KIP-980; RUNNING unless given). */
  putConnectorConfig(name: string, config: Record<string, string>, allowReplace: boolean, initialState?: InitialState): Promise<{ created: boolean; info: ConnectorInfo }>;
  /** Merges `patch` into the config; a null value removes that key (KIP-477). */
  patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo>;
  deleteConnector(name: string): Promise<void>;

  connectorStatus(name: string): Promise<ConnectorStateInfo>;
  taskStatus(name: string, task: number): Promise<TaskStateInfo>;
  taskConfigs(name: string): Promise<TaskInfo[]>;

  /**
   * Restarts the connector (and its tasks when asked). Returns the status with RESTARTING states
   * for what will restart, or null for the plain restart (no includeTasks, no onlyFailed).
   */
  restartConnector(name: string, request: RestartRequest): Promise<ConnectorStateInfo | null>;
  restartTask(name: string, task: number): Promise<void>;
  pauseConnector(name: string): Promise<void>;
  resumeConnector(name: string): Promise<void>;
  /** Stops the connector and its tasks but keeps its config (KIP-875's STOPPED state). */
  stopConnector(name: string): Promise<void>;
  /** PUT /connectors/{name}/fence, between workers: the leader's zombie fencing round (KIP-618). */
  fenceZombies(name: string): Promise<void>;
  /** POST /connectors/{name}/tasks, between workers: a connector's owner hands its task configs to the leader. */
  putTaskConfigs(name: string, configs: Record<string, string>[]): Promise<void>;
  /**
   * PUT /admin/loggers/{namespace}?scope=cluster (KIP-976): the level for every worker of the
   * cluster, through the config topic. Absent in standalone mode, where the worker is the cluster.
   */
  setClusterLoggerLevel?(namespace: string, level: string): Promise<void>;

  /** The topics the connector has used since it was created or its topics were reset (KIP-558). */
  connectorActiveTopics(name: string): Promise<string[]>;
  resetConnectorActiveTopics(name: string): Promise<void>;

  connectorOffsets(name: string): Promise<ConnectorOffset[]>;
  /**
   * Only for a STOPPED connector (else ConnectRestError 400). Resolves with the message the REST
   * API answers (Kafka's wording differs when the connector does not confirm external offsets).
   */
  alterConnectorOffsets(name: string, offsets: ConnectorOffset[]): Promise<string>;
  resetConnectorOffsets(name: string): Promise<string>;

  plugins(connectorsOnly: boolean): PluginInfo[];
  /** `config` must hold connector.class; `pluginType` is the path's {type} (a class or alias). */
  validateConnectorConfig(pluginType: string, config: Record<string, string>): Promise<ConfigInfos>;
  pluginConfig(pluginName: string): ConfigKeyInfo[];
}

/** A refusal the REST API answers with `status` and {"error_code": status, "message": message}. */
export class ConnectRestError extends Error {
  override readonly name = 'ConnectRestError';
  constructor(readonly status: number, message: string) {
    super(message);
  }

  static notFound(what: string): ConnectRestError {
    return new ConnectRestError(404, what);
  }
}
