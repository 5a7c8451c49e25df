// The plant demo runs from a copy in the Node-RED user directory, so a Deploy in the editor changes the copy
// (and writes its _cred.json and backup beside it), never the repository's flows/plant-demo.json.
// flows/settings.js makes the copy on first start; `npm run demo:reset` replaces it with the shipped demo.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const SHIPPED = path.join(__dirname, 'plant-demo.json');
const NAME = 'plant-demo.json';

/** The demo's flow file in userDir, copied from the shipped demo when missing (or when reset is true). */
function demoCopy(userDir, reset = false) {
  const copy = path.join(userDir, NAME);
  if (reset || !fs.existsSync(copy)) {
    fs.mkdirSync(userDir, { recursive: true });
    fs.copyFileSync(SHIPPED, copy);
    // Credentials and the editor's backup belong to the old copy.
    for (const old of ['plant-demo_cred.json', '.plant-demo.json.backup', '.plant-demo_cred.json.backup'])
      fs.rmSync(path.join(userDir, old), { force: true });
    console.log(`takt: the plant demo runs from ${copy} (a copy of flows/${NAME})`);
  } else if (!fs.readFileSync(copy).equals(fs.readFileSync(SHIPPED))) {
    console.log(
      `takt: the plant demo runs from ${copy} (your deployed changes); npm run demo:reset replaces it with flows/${NAME}`,
    );
  }
  return copy;
}

module.exports = { demoCopy };

if (require.main === module) {
  const userDir = process.env.TAKT_USER_DIR || path.join(__dirname, '..', '.takt');
  demoCopy(userDir, true);
}
