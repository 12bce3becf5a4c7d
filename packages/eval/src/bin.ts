// The `openfugu-eval` process entry (bin/openfugu-eval.js imports the built dist/bin.js).
import { runEvalCli } from './cli.js';

process.exitCode = await runEvalCli(process.argv.slice(2));
