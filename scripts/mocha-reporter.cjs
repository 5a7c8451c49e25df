// Mocha's spec reporter plus one plain closing line, "N passed, N failed, N skipped", that CI tools
// read to tell a run that tested something from one that tested nothing.
'use strict';
const Mocha = require('mocha');

class TaktReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = runner.stats || {};
      process.stdout.write(
        `\ntests: ${s.passes || 0} passed, ${s.failures || 0} failed, ${s.pending || 0} skipped\n`,
      );
    });
  }
}

module.exports = TaktReporter;
