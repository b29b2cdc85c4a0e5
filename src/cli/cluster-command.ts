// `conveyor cluster describe`: the cluster id, the controller and every broker with its endpoint.
import type { Command } from 'commander';
import { type ToolOptions, print, table, toolOptions, withAdmin } from './output.js';

export function registerClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('inspect the cluster');
  toolOptions(cluster.command('describe').description('cluster id, controller and brokers')).action((options: ToolOptions) =>
    withAdmin(options, async (admin) => {
      const metadata = await admin.cluster.metadata([]);
      const brokers = [...metadata.brokers].sort((a, b) => a.nodeId - b.nodeId).map((broker) => ({ nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: broker.rack ?? null }));
      const described = { clusterId: metadata.clusterId ?? null, controllerId: metadata.controllerId ?? -1, brokers };
      print(options, described, () =>
        [
          `Cluster id: ${described.clusterId}`,
          `Controller: ${described.controllerId}`,
          table([['NODE', 'HOST', 'PORT', 'RACK'], ...brokers.map((broker) => [broker.nodeId, broker.host, broker.port, broker.rack])]),
        ].join('\n'),
      );
    }),
  );
}
