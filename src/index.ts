import { run } from './shell/action-main.js';

void run();
