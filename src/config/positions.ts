import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

/** A 1-based position in the configuration file. */
export interface Position {
  line: number;
  col: number;
}

export type PathSegment = string | number;

/** What a path leads to in the YAML document. */
interface Found {
  /** The key node of the last map segment found. */
  key: Node | undefined;
  /** The value node, when the whole path was found and the value is not empty. */
  value: Node | undefined;
  /** The deepest collection reached, for paths that end at a missing key. */
  nearest: Node | undefined;
  complete: boolean;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/**
 * Maps a path of the parsed data (as zod reports it: `['upstreams', 'api', 'servers', 0, 'url']`)
 * back to positions in the source, so every problem can point at the offending key or value.
 */
export class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  position(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  private start(node: Node | undefined): Position | undefined {
    return node?.range ? this.position(node.range[0]) : undefined;
  }

  private find(path: readonly PathSegment[]): Found {
    let node: unknown = this.doc.contents;
    let key: Node | undefined;
    let nearest: Node | undefined;
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        nearest = node;
        const pair = node.items.find((item) => keyText(item.key) === String(segment));
        if (pair === undefined) return { key, value: undefined, nearest, complete: false };
        key = isScalar(pair.key) ? pair.key : undefined;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        nearest = node;
        key = undefined;
        node = node.items[segment];
      } else {
        return { key, value: undefined, nearest: (node as Node | null) ?? nearest, complete: false };
      }
    }
    // `key:` with nothing after it parses as an empty null scalar positioned after the colon;
    // the key is the better place to point at.
    const empty = isScalar(node) && node.value === null && node.source === '';
    return { key, value: empty ? undefined : (node as Node | undefined), nearest, complete: true };
  }

  /** The value at `path`, else its key, else the nearest enclosing collection. */
  value(path: readonly PathSegment[]): Position {
    const found = this.find(path);
    return this.start(found.value) ?? this.start(found.key) ?? this.start(found.nearest) ?? { line: 1, col: 1 };
  }

  /** The key at the end of `path` (falls back like `value`). */
  key(path: readonly PathSegment[]): Position {
    const found = this.find(path);
    return (found.complete ? this.start(found.key) : undefined) ?? this.value(path);
  }

  /** Where a key missing at `path` belongs: the map that should hold it. */
  parent(path: readonly PathSegment[]): Position {
    return this.value(path.slice(0, -1));
  }
}
