#!/usr/bin/env node
// Entry point of the installed command: runs the compiled CLI.
import '../dist/cli/main.js';
