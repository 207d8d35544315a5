/** Stage-wide default route throttling of the HTTP and WebSocket APIs. */
export interface ThrottleProps {
  /** Steady-state requests (WebSocket: messages) per second. */
  rateLimit: number;
  /** Burst bucket size. */
  burstLimit: number;
}

export const DEFAULT_THROTTLE: ThrottleProps = { rateLimit: 1000, burstLimit: 2000 };
