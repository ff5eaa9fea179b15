export { ApiError, buildServer, type ServerOptions } from './app.js';
