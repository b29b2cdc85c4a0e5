/**
 * TopologyDescription: the nodes of each sub-topology and their links, printed as Kafka Streams
 * prints `topology.describe()` (tools and people compare that text). Nodes are ordered as Kafka
 * orders them: by the size of the sub-tree they root, largest first, then by name.
 */

export interface DescribedNode {
  readonly kind: 'source' | 'processor' | 'sink';
  readonly name: string;
  /** Source: its topics (sorted) or its pattern. */
  readonly topics?: readonly string[];
  readonly pattern?: RegExp;
  /** Processor: the stores it is connected to. */
  readonly stores?: readonly string[];
  /** Sink: its topic, or the name of its topic extractor. */
  readonly topic?: string;
  readonly extractor?: string;
  readonly successors: readonly string[];
  readonly predecessors: readonly string[];
}

export interface DescribedSubtopology {
  readonly id: number;
  readonly nodes: readonly DescribedNode[];
}

export interface DescribedGlobalStore {
  readonly id: number;
  readonly source: DescribedNode;
  readonly processor: DescribedNode;
}

function nodeNames(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

function setText(values: readonly string[]): string {
  return `[${values.join(', ')}]`;
}

export function nodeText(node: DescribedNode): string {
  switch (node.kind) {
    case 'source': {
      const topics = node.pattern ? node.pattern.source : setText(node.topics ?? []);
      return `Source: ${node.name} (topics: ${topics})\n      --> ${nodeNames(node.successors)}`;
    }
    case 'processor':
      return (
        `Processor: ${node.name} (stores: ${setText(node.stores ?? [])})\n` +
        `      --> ${nodeNames(node.successors)}\n      <-- ${nodeNames(node.predecessors)}`
      );
    case 'sink': {
      const target = node.extractor !== undefined ? `extractor class: ${node.extractor}` : `topic: ${node.topic}`;
      return `Sink: ${node.name} (${target})\n      <-- ${nodeNames(node.predecessors)}`;
    }
  }
}

function subtopologyText(subtopology: DescribedSubtopology): string {
  let text = `Sub-topology: ${subtopology.id}\n`;
  for (const node of subtopology.nodes) text += `    ${nodeText(node)}\n`;
  return `${text}\n`;
}

function globalStoreText(store: DescribedGlobalStore): string {
  return (
    `Sub-topology: ${store.id} for global store (will not generate tasks)\n` +
    `    ${nodeText(store.source)}\n    ${nodeText(store.processor)}\n`
  );
}

export class TopologyDescription {
  constructor(
    readonly subtopologies: readonly DescribedSubtopology[],
    readonly globalStores: readonly DescribedGlobalStore[],
  ) {}

  /** Kafka's text: sub-topologies and global stores interleaved by id, each line indented as Kafka indents it. */
  toString(): string {
    const parts = [
      ...this.subtopologies.map((s) => ({ id: s.id, text: subtopologyText(s) })),
      ...this.globalStores.map((g) => ({ id: g.id, text: globalStoreText(g) })),
    ].sort((a, b) => a.id - b.id);
    return `Topologies:\n ${parts.map((p) => `  ${p.text}`).join('')}`;
  }
}

/**
 * Orders the nodes of one sub-topology as Kafka does: a node's size is 1 plus its successors' sizes
 * (a node reached by two paths counts twice, as in Kafka), larger first, ties by name.
 */
export function sortNodes<T extends { name: string; successors: readonly string[] }>(nodes: readonly T[]): T[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const sizes = new Map<string, number>();
  const size = (name: string): number => {
    const known = sizes.get(name);
    if (known !== undefined) return known;
    const node = byName.get(name);
    const total = 1 + (node ? node.successors.reduce((sum, s) => sum + size(s), 0) : 0);
    sizes.set(name, total);
    return total;
  };
  return [...nodes].sort((a, b) => size(b.name) - size(a.name) || compareNames(a.name, b.name));
}

/** Java's String.compareTo for the ASCII names topologies use. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
