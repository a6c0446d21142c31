/**
 * The CLI is one bundled file (dist/cli/main.js, scripts/bundle.mjs): a CPU profile names
 * that file for every frame of ours and of the drivers. This maps each such frame back to
 * its source (src/…/x.ts, node_modules/mysql2/…) through the bundle's source map, so that
 * profiles read as before the bundle.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Rewrites, in place, the url and line of every frame of `profile` inside a bundle with a map. */
export function unbundleProfile(profile) {
  const maps = new Map();
  const mapOf = (url) => {
    if (!maps.has(url)) {
      let map;
      try {
        const path = `${fileURLToPath(url)}.map`;
        if (existsSync(path)) map = new SourceMap(JSON.parse(readFileSync(path, 'utf8')));
      } catch {
        map = undefined;
      }
      maps.set(url, map);
    }
    return maps.get(url);
  };
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    if (!frame.url.startsWith('file://') || !frame.url.endsWith('.js')) continue;
    const map = mapOf(frame.url);
    if (map === undefined || frame.lineNumber < 0) continue;
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber);
    if (entry?.originalSource === undefined) continue;
    const source = new URL(entry.originalSource, frame.url);
    node.callFrame = {
      ...frame,
      url: pathToFileURL(fileURLToPath(source)).href,
      lineNumber: entry.originalLine,
      columnNumber: entry.originalColumn,
    };
  }
  return profile;
}
