export { ApiError, buildServer, type ServerOptions } from './app.js';
export { responseView } from './routes-responses.js';
