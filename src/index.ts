import { run } from './shell/action-main.js';
import { endWhenSettled } from './shell/time-limit.js';

endWhenSettled(run());
