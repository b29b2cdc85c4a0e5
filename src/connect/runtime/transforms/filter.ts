// Filter: drops every record. Used with a predicate (transforms.x.predicate), it drops the records
// the predicate matches (or, with negate=true, those it does not).
import { ConnectConfigDef } from '../../api/config.js';
import type { ConnectRecord } from '../../api/data.js';
import { BaseTransformation } from './util.js';

const CONFIG_DEF = new ConnectConfigDef();

export class Filter extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(): void {}

  apply<R extends ConnectRecord>(_record: R): R | null {
    return null;
  }
}
