// The layer map of DESIGN.md ("Layers"), checked by `npm run check:layers` in `make test`:
//   cli -> {server, agent, publish, firmware, protocol, dcp, engine, util}
//   {server, agent, publish} -> protocol -> {dcp, firmware, engine, util}
//   dcp -> engine -> util
// Each layer may import itself and what the map puts below it; nothing imports cli; no circles;
// only src/engine loads the native addon. Type-only imports count too: a type from the wrong layer
// ties the layers together just as a value does.
const below = {
  util: [],
  engine: ['util'],
  dcp: ['engine', 'util'],
  firmware: ['engine', 'util'],
  protocol: ['dcp', 'firmware', 'engine', 'util'],
  server: ['protocol', 'dcp', 'firmware', 'engine', 'util'],
  agent: ['protocol', 'dcp', 'firmware', 'engine', 'util'],
  publish: ['protocol', 'dcp', 'firmware', 'engine', 'util'],
};

const layerRules = Object.entries(below).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer} may import only ${[layer, ...allowed].map((l) => `src/${l}`).join(', ')} (DESIGN.md, Layers)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: '^src/', pathNot: `^src/(${[layer, ...allowed].join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'an import circle: move what the modules share into a module of its own',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'native-addon-only-in-engine',
      comment: 'only src/engine loads the native addon; everything else imports its typed classes',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/engine/' },
      to: { path: ['\\.node$', '^build/'] },
    },
    {
      name: 'no-unresolvable',
      comment: 'an import that resolves to nothing would hide a layer break (the page scripts import by URL)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(agent/web/public|server/console-public)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|build)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.d.ts', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
