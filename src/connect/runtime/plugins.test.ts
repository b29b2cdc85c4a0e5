// Where connector classes come from besides the built-ins: classes handed to the registry (as
// startConnect's `plugins` does) and npm packages of the project, resolved from the project
// directory's node_modules when a connector.class names them. Each project package here is plain
// CommonJS written into a temporary project, as a connector author could publish one.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../base/logger.js';
import type { SourceConnector } from '../api/connector.js';
import { type ConnectorClass, PluginRegistry } from './plugins.js';

/** A source connector class written against the API's shapes (as the packages below are). */
const connectorSource = (name: string, kind: 'source' | 'sink') => `class ${name} {
  constructor() { this.kind = '${kind}'; }
  version() { return '3.2.1'; }
  start() {}
  taskClass() { return class {}; }
  taskConfigs() { return [{}]; }
  stop() {}
  config() { return { keys: () => [], validate: () => [], parse: () => ({}) }; }
}`;

async function writePackage(project: string, name: string, body: string): Promise<void> {
  const dir = join(project, 'node_modules', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'main.js' }));
  await writeFile(join(dir, 'main.js'), body);
}

describe('PluginRegistry: connectors given directly and from the project', () => {
  let project: string;
  before(async () => {
    project = await mkdtemp(join(tmpdir(), 'conveyor-plugins-'));
    await writePackage(project, 'acme-connect-one', `${connectorSource('AcmeSourceConnector', 'source')}\nmodule.exports = { AcmeSourceConnector, notAConnector: 42 };\n`);
    await writePackage(project, '@acme/connect-two', `${connectorSource('LeftSinkConnector', 'sink')}\n${connectorSource('RightSourceConnector', 'source')}\nmodule.exports = { LeftSinkConnector, RightSourceConnector };\n`);
    await writePackage(project, 'acme-broken', "require('a-module-that-is-not-installed');\n");
  });
  after(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it('a package of the project is found by its name when it exports one connector, then by its class names', () => {
    const registry = new PluginRegistry(silentLogger, project);
    assert.equal(registry.find('AcmeSourceConnector'), undefined, 'not loaded before something names its package');
    const plugin = registry.resolve('acme-connect-one');
    assert.equal(plugin.className, 'AcmeSourceConnector');
    assert.equal(plugin.kind, 'source');
    assert.equal(plugin.version, '3.2.1');
    assert.equal(registry.find('AcmeSource'), plugin, 'once loaded, the class name and its alias find it');
    assert.ok(registry.infos().some((info) => info.class === 'AcmeSourceConnector'), 'listed among the plugins');
    assert.equal(registry.find('acme-connect-one'), plugin, 'found again (loaded once)');
  });

  it('package/ClassName names one class of a (scoped) package that exports several', () => {
    const registry = new PluginRegistry(silentLogger, project);
    assert.equal(registry.find('@acme/connect-two'), undefined, 'the package name alone is ambiguous');
    assert.equal(registry.resolve('@acme/connect-two/LeftSinkConnector').kind, 'sink');
    assert.equal(registry.resolve('@acme/connect-two/RightSource').className, 'RightSourceConnector');
  });

  it('a project package that fails to load fails the name with its error; paths and Node modules are not loaded', () => {
    const registry = new PluginRegistry(silentLogger, project);
    assert.throws(() => registry.resolve('acme-broken'), /acme-broken: .*a-module-that-is-not-installed/);
    assert.throws(() => registry.resolve('not-installed-anywhere'), /Failed to find any class that implements Connector and which name matches not-installed-anywhere/);
    for (const name of ['./node_modules/acme-connect-one/main.js', join(project, 'node_modules/acme-connect-one/main.js'), 'fs', 'node:fs']) {
      assert.equal(registry.find(name), undefined, name);
    }
    // A built-in still wins over the project.
    assert.equal(registry.resolve('FileStreamSource').className, 'org.apache.kafka.connect.file.FileStreamSourceConnector');
  });

  it('register() adds classes under the names given, and refuses what is not a connector', () => {
    class EmbeddedSourceConnector {
      readonly kind = 'source';
      version() { return '9.9.9'; }
      taskClass() { return class {}; }
      taskConfigs() { return [{}]; }
    }
    const registry = new PluginRegistry(silentLogger, project);
    registry.register({ 'com.example.EmbeddedSourceConnector': EmbeddedSourceConnector as unknown as ConnectorClass });
    for (const name of ['com.example.EmbeddedSourceConnector', 'EmbeddedSourceConnector', 'EmbeddedSource']) assert.equal(registry.resolve(name).version, '9.9.9', name);
    assert.throws(() => registry.register({ Nope: class {} as unknown as new () => SourceConnector }), /Nope is not a connector class/);
  });
});
