#!/usr/bin/env node
// Compiles contracts/CityAttestationRegistry.sol with solc-js (standard JSON) and writes
//   <outdir>/CityAttestationRegistry.abi          the ABI, JSON
//   <outdir>/CityAttestationRegistry.bin          creation bytecode, lowercase hex without 0x
//   <outdir>/CityAttestationRegistry.bin-runtime  deployed (runtime) bytecode, lowercase hex without 0x,
//                                                 with zeros where the immutables go
//   <outdir>/CityAttestationRegistry.immutables.json  where the EVM writes each immutable into the runtime
//                                                 code at deployment: {"<name>": [{"start": byte offset,
//                                                 "length": 32}, ...]}, sorted by start
// each ending in a newline.
//
// Usage: node contracts/compile.js <solc-dir> <outdir>
//   <solc-dir> is the npm prefix the solc package is installed under (scripts/contracts.sh installs it).
//
// Settings are part of the protocol (the Cosmos light client pins the runtime code hash): evmVersion
// london, optimizer on with 200 runs, viaIR (the issue function and its event carry more values than
// the legacy code generator's stack can reach), and no metadata hash in the bytecode, so the code
// depends only on the source's semantics and the compiler version, not on comments or file paths.
// The one immutable, evmChainId (block.chainid at deployment), makes the deployed code differ per EVM
// chain; Go's contracts.RuntimeCodeFor writes a chain id at the offsets of the .immutables.json file.
'use strict';

const fs = require('fs');
const path = require('path');

const CONTRACT = 'CityAttestationRegistry';
const SOLC_VERSION = process.env.SOLC_VERSION || '';

function fail(msg) {
  process.stderr.write(`compile.js: ${msg}\n`);
  process.exit(1);
}

if (process.argv.length !== 4) {
  fail('usage: node contracts/compile.js <solc-dir> <outdir>');
}
const solcDir = path.resolve(process.argv[2]);
const outDir = path.resolve(process.argv[3]);

let solc;
try {
  solc = require(path.join(solcDir, 'node_modules', 'solc'));
} catch (e) {
  fail(`cannot load solc from ${solcDir}: ${e.message}`);
}
if (SOLC_VERSION && !solc.version().startsWith(SOLC_VERSION + '+')) {
  fail(`solc is ${solc.version()}, want ${SOLC_VERSION}`);
}

const file = `${CONTRACT}.sol`;
const input = {
  language: 'Solidity',
  sources: { [file]: { content: fs.readFileSync(path.join(__dirname, file), 'utf8') } },
  settings: {
    evmVersion: 'london',
    optimizer: { enabled: true, runs: 200 },
    viaIR: true,
    metadata: { bytecodeHash: 'none' },
    outputSelection: {
      [file]: {
        '': ['ast'],
        [CONTRACT]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.deployedBytecode.immutableReferences'],
      },
    },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of output.errors || []) {
  process.stderr.write((e.formattedMessage || e.message) + '\n');
  if (e.severity === 'error') {
    failed = true;
  }
}
if (failed) {
  fail('compilation failed');
}

const c = output.contracts[file][CONTRACT];
// Immutables are written into the runtime code at deployment (deployedBytecode holds zeros there):
// name each by its declaration in the AST, and check the references are 32-byte words inside the code.
const names = {};
(function walk(node) {
  if (Array.isArray(node)) {
    node.forEach(walk);
  } else if (node && typeof node === 'object') {
    if (node.nodeType === 'VariableDeclaration' && node.mutability === 'immutable') {
      names[String(node.id)] = node.name;
    }
    Object.values(node).forEach(walk);
  }
})(output.sources[file].ast);
const runtimeLength = c.evm.deployedBytecode.object.length / 2;
const immutables = {};
for (const [id, refs] of Object.entries(c.evm.deployedBytecode.immutableReferences || {})) {
  const name = names[id];
  if (!name) {
    fail(`immutable reference ${id} names no immutable declaration`);
  }
  const sorted = refs.map((r) => ({ start: r.start, length: r.length })).sort((a, b) => a.start - b.start);
  for (const r of sorted) {
    if (r.length !== 32 || r.start < 0 || r.start + r.length > runtimeLength) {
      fail(`immutable ${name} at ${r.start}+${r.length}: not a 32-byte word inside the ${runtimeLength}-byte runtime code`);
    }
  }
  immutables[name] = sorted;
}
const immutableNames = Object.keys(immutables).sort();
if (immutableNames.join(',') !== 'evmChainId') {
  fail(`immutables [${immutableNames}], want exactly [evmChainId] (Go's contracts.RuntimeCodeFor writes only it)`);
}
// Unlinked library placeholders would make the hex invalid.
for (const hex of [c.evm.bytecode.object, c.evm.deployedBytecode.object]) {
  if (!/^[0-9a-f]+$/.test(hex)) {
    fail('bytecode is not plain hex (unlinked libraries?)');
  }
}

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, `${CONTRACT}.abi`), JSON.stringify(c.abi, null, 2) + '\n');
fs.writeFileSync(path.join(outDir, `${CONTRACT}.bin`), c.evm.bytecode.object + '\n');
fs.writeFileSync(path.join(outDir, `${CONTRACT}.bin-runtime`), c.evm.deployedBytecode.object + '\n');
fs.writeFileSync(path.join(outDir, `${CONTRACT}.immutables.json`), JSON.stringify(immutables, null, 2) + '\n');
process.stdout.write(`compiled ${CONTRACT} with solc ${solc.version()} into ${outDir}\n`);
