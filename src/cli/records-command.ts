// `conveyor records delete`: Kafka's kafka-delete-records for one partition: every record below
// --offset is deleted (the log start offset moves there; -1 means up to the high watermark).
import type { Command } from 'commander';
import { ToolError } from '../client/cluster-client.js';
import { type ToolOptions, integerOption, print, toolOptions, withAdmin } from './output.js';

interface RecordsOptions extends ToolOptions {
  topic: string;
  partition: string;
  offset: string;
}

export function registerRecordsCommand(program: Command): void {
  const records = program.command('records').description('manage records');
  toolOptions(records.command('delete').description('delete the records of a partition below an offset'))
    .requiredOption('--topic <name>', 'the topic')
    .requiredOption('--partition <n>', 'the partition')
    .requiredOption('--offset <n>', 'delete records below this offset (-1: everything up to the high watermark)')
    .action((options: RecordsOptions) =>
      withAdmin(options, async (admin) => {
        const partition = integerOption('--partition', options.partition)!;
        const offset = integerOption('--offset', options.offset, -1)!;
        if (offset < -1) throw new ToolError('--offset must be -1 or at least 0');
        const lowWatermark = await admin.deleteRecords(options.topic, partition, offset);
        print(options, { topic: options.topic, partition, lowWatermark }, () => `${options.topic}-${partition}: records below offset ${lowWatermark} deleted (low watermark ${lowWatermark})`);
      }),
    );
}
