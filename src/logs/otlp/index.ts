export { OtlpError } from './errors.js';
export {
  decodeOtlpLogs,
  decodeOtlpLogsJson,
  decodeOtlpLogsProtobuf,
  type OtlpLogs,
  type OtlpOptions,
} from './request.js';
