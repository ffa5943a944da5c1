// webhook handler / serve --> jsonResponse --> API Gateway v2 structured result (always application/json)
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** A structured API Gateway v2 result whose body is JSON. */
export interface JsonResult extends APIGatewayProxyStructuredResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * @example jsonResponse(202, { status: 'applied' })
 */
export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): JsonResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** `{ error, message }` with the given status. */
export function errorResponse(statusCode: number, error: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): JsonResult {
  return jsonResponse(statusCode, { error, message, ...extra }, headers);
}
