export { type ConsoleOptions, registerConsole } from './routes.js';
