#!/usr/bin/env node
// Parses PowerShell files with tree-sitter-powershell and reports every ERROR or MISSING node.
// Usage: node ps-parse.js FILE...   Exit 0 when every file parses cleanly, 1 when any has errors, 2 on bad usage.
'use strict';
const fs = require('fs');
const Parser = require('tree-sitter');
const PowerShell = require('tree-sitter-powershell');

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node ps-parse.js FILE...');
  process.exit(2);
}

const parser = new Parser();
parser.setLanguage(PowerShell);

function problems(node, found) {
  if (found.length >= 10) return found;
  if (node.type === 'ERROR' || node.isMissing) {
    found.push(node);
    return found; // the children of an ERROR node add nothing useful
  }
  if (!node.hasError) return found;
  const before = found.length;
  for (const child of node.children) problems(child, found);
  // tree-sitter can flag a node without any ERROR or MISSING child: report the node itself rather than nothing.
  if (found.length === before && !node.children.some((child) => child.hasError)) found.push(node);
  return found;
}

let failed = 0;
for (const file of files) {
  let text = fs.readFileSync(file, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // BOM
  // tree-sitter's default 32 KiB buffer is too small for longer files.
  const tree = parser.parse(text, undefined, { bufferSize: Math.max(65536, text.length * 4) });
  if (!tree.rootNode.hasError) continue;
  failed++;
  for (const node of problems(tree.rootNode, [])) {
    const kind = node.isMissing ? `MISSING ${node.type}` : node.type === 'ERROR' ? 'ERROR' : `ERROR in ${node.type}`;
    const line = text.split('\n')[node.startPosition.row] || '';
    console.log(`${file}:${node.startPosition.row + 1}:${node.startPosition.column + 1}: ${kind}: ${line.trim().slice(0, 120)}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
