// A ConnectConfigDef with checks across keys (http.url or webhook.listener; the offset either in
// the URL or as a parameter): a key's validator sees only its own value, and these errors must
// show in /config/validate under the key they concern as well as refuse a start.
import { ConnectConfigDef, ConnectConfigException, type ConfigValueReport, type ParsedConfig } from '../../api/config.js';

/** [key, error sentence] for each problem of the whole configuration (its keys already parsed). */
export type CrossCheck = (config: ParsedConfig) => [string, string][];

export class CheckedConfigDef extends ConnectConfigDef {
  constructor(private readonly crossCheck: CrossCheck) {
    super();
  }

  override validate(props: Readonly<Record<string, string>>): ConfigValueReport[] {
    const reports = super.validate(props);
    // Across keys only when each key is fine on its own: one error per mistake.
    if (reports.some((report) => report.errors.length > 0)) return reports;
    for (const [name, error] of this.crossCheck(super.parse(props))) reports.find((report) => report.name === name)?.errors.push(error);
    return reports;
  }

  override parse(props: Readonly<Record<string, string>>): ParsedConfig {
    const config = super.parse(props);
    const [problem] = this.crossCheck(config);
    if (problem) throw new ConnectConfigException(problem[0], problem[1]);
    return config;
  }
}
