/**
 * A child process for the logger tests: logs `count` lines through the process logger, then either exits at
 * once (`exit`) or stays up for `stay` milliseconds without logging anything else.
 *   node --import tsx test/support/log-lines.ts <count> exit|stay <milliseconds>
 */
import { createLogger } from '../../src/logger';

const [count, mode, milliseconds] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4] ?? 0)];
const logger = createLogger('info');
for (let index = 0; index < count; index += 1) logger.info({ index }, 'line');
if (mode === 'exit') process.exit(0);
else setTimeout(() => undefined, milliseconds);
