// Test probe loaded with --import: when the process exits it writes how many bytes it read through
// read(2) and friends (rchar of /proc/self/io) to the file named by CINESWARM_TEST_RCHAR_FILE.
import fs from 'node:fs';

const out = process.env.CINESWARM_TEST_RCHAR_FILE;
if (out) {
  process.on('exit', () => {
    const m = /^rchar: (\d+)$/m.exec(fs.readFileSync('/proc/self/io', 'utf8'));
    fs.writeFileSync(out, m ? m[1] : 'unknown');
  });
}
