// Prints a bcrypt hash for TAKT_ADMIN_PASSWORD / TAKT_HTTP_PASSWORD.
//   npm run hash-pw              (asks for the password, without echo)
//   echo -n 'pw' | npm run hash-pw --silent
import bcrypt from 'bcryptjs';
import { createInterface } from 'node:readline';

async function readPassword() {
  if (!process.stdin.isTTY) {
    let data = '';
    for await (const chunk of process.stdin) data += chunk;
    return data.replace(/\r?\n$/, '');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  process.stderr.write('Password: ');
  // Hide what is typed: answer each keystroke with nothing.
  rl._writeToOutput = () => {};
  const pw = await new Promise((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return pw;
}

const pw = await readPassword();
if (pw.length < 8) {
  console.error('hash-pw: use a password of at least 8 characters');
  process.exit(1);
}
console.log(bcrypt.hashSync(pw, 10));
