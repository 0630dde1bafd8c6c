/**
 * The house rules of src/ (docs/internals.md), checked on the code itself: imports never run in
 * a circle and only run down through the layers, core/ imports nothing else of src/, no loose file but index.ts, no function longer
 * than a screenful or two. Imports and functions are read with TypeScript's own parser.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/cli.js";

const SRC = join(ROOT, "src");
/**
 * The layers, lowest first (docs/internals.md): a folder imports only from its own layer's
 * folder or from lower layers. Folders on one layer do not import each other.
 */
const LAYERS = [
  ["core"],
  ["sources"],
  ["labels"],
  ["transforms", "sinks"],
  ["dataset"],
  ["run", "commands"],
  ["cli"],
];
const layerOf = (file: string) => LAYERS.findIndex((layer) => layer.includes(file.split("/")[0]!));
const LONGEST_FUNCTION = 100;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const FILES = sourceFiles(SRC).map((file) => relative(SRC, file));

/** Each file's imports of other files of src/ (type-only ones too: they tie the files as well). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of FILES) {
    const text = readFileSync(join(SRC, file), "utf8");
    const { importedFiles } = ts.preProcessFile(text, true, true);
    const targets = importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => relative(SRC, join(SRC, dirname(file), name)).replace(/\.js$/, ".ts"));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every circle of imports, each once, as `a -> b -> a`. */
function circles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const done = new Set<string>();
  const visit = (file: string, path: string[]) => {
    const at = path.indexOf(file);
    if (at >= 0) {
      found.push([...path.slice(at), file].join(" -> "));
      return;
    }
    if (done.has(file)) return;
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    done.add(file);
  };
  for (const file of graph.keys()) visit(file, []);
  return found;
}

/** Functions, methods and arrow functions longer than `limit` lines, as `file:line name (N lines)`. */
function longFunctions(limit: number): string[] {
  const found: string[] = [];
  for (const file of FILES) {
    const text = readFileSync(join(SRC, file), "utf8");
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node) => {
      if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined) {
        const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const name = node.name?.getText(source) ?? "(anonymous)";
        if (end - start + 1 > limit)
          found.push(`${file}:${start + 1} ${name} (${end - start + 1} lines)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe("the layout of src/", () => {
  const graph = importGraph();

  it("has no import cycle", () => {
    expect(circles(graph)).toEqual([]);
  });

  it("core/ imports nothing of src/ outside core/", () => {
    const outward = [...graph]
      .filter(([file]) => file.startsWith("core/"))
      .flatMap(([file, targets]) =>
        targets
          .filter((target) => !target.startsWith("core/"))
          .map((target) => `${file} -> ${target}`),
      );
    expect(outward).toEqual([]);
  });

  it("imports only downward through the layers", () => {
    const upward = [...graph]
      .filter(([file]) => file.includes("/"))
      .flatMap(([file, targets]) =>
        targets
          .filter((target) => target.split("/")[0] !== file.split("/")[0])
          .filter((target) => layerOf(target) >= layerOf(file))
          .map((target) => `${file} -> ${target}`),
      );
    expect(upward).toEqual([]);
    expect(FILES.filter((file) => file.includes("/") && layerOf(file) < 0)).toEqual([]);
  });

  it("has no loose file but index.ts", () => {
    expect(FILES.filter((file) => !file.includes("/"))).toEqual(["index.ts"]);
  });

  it(`has no function over ${LONGEST_FUNCTION} lines`, () => {
    expect(longFunctions(LONGEST_FUNCTION)).toEqual([]);
  });

  it("the checks see what they check: the graph and the parser find imports and functions", () => {
    expect(graph.get("run/run-pipeline.ts")).toContain("core/errors.ts");
    expect(longFunctions(30).length).toBeGreaterThan(5);
  });
});
