import type { Duplex } from "node:stream";
import type { Dispatcher } from "undici";

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;
type Headers = Dispatcher.ResponseData["headers"];

/**
 * Lets a reply's last body chunk through without pausing undici's HTTP/1 parser.
 *
 * A reader that applies backpressure pauses the parser. When the chunk it pauses on is the
 * last of the body and the server closes the connection right after it (`Connection: close`,
 * HTTP/1.0: Python's http.server), undici 7 finishes the parser on the socket's end while it is
 * paused and throws an uncatchable `AssertionError: assert(!this.paused)` from the socket's
 * event handler: the process dies with a stack and leaves a `.partial` behind. Fixed in undici 8
 * (nodejs/undici#5474), which needs Node 22.
 *
 * After the last chunk there is nothing left to hold back, so a pause asked for then is
 * dropped: the parser completes the message, and the reader still gets every byte in its own
 * time from the body's buffer. Only a body whose length is known can be told complete; one
 * ended by the connection's close (no Content-Length, not chunked) still pauses as before.
 */
export function finishBodyInterceptor(): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) => dispatch(options, new FinishBodyHandler(handler));
}

class FinishBodyHandler implements Handler {
  /** Body bytes still to come, once the headers told the length. */
  private remaining = Number.POSITIVE_INFINITY;
  private complete = false;
  private wrapped: { of: Controller; as: Controller } | undefined;

  constructor(private readonly handler: Handler) {}

  /**
   * One stable controller for the handlers above (undici's retry keeps the first it sees):
   * `of` itself in all but `pause`, which does nothing once the body is complete.
   */
  private controller(of: Controller): Controller {
    if (this.wrapped?.of === of) return this.wrapped.as;
    const pause = () => {
      if (!this.complete) of.pause();
    };
    const as = new Proxy(of, {
      get(target, key) {
        if (key === "pause") return pause;
        const value: unknown = Reflect.get(target, key, target);
        // Bound: undici's controllers keep their state in private fields.
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    this.wrapped = { of, as };
    return as;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.handler.onRequestStart?.(this.controller(controller), context);
  }

  onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    socket: Duplex,
  ): void {
    this.handler.onRequestUpgrade?.(this.controller(controller), statusCode, headers, socket);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    const length = headers["content-length"];
    this.remaining =
      typeof length === "string" && /^\d+$/.test(length)
        ? Number(length)
        : Number.POSITIVE_INFINITY;
    this.complete = false;
    this.handler.onResponseStart?.(this.controller(controller), statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.remaining -= chunk.length;
    this.complete = this.remaining <= 0;
    this.handler.onResponseData?.(this.controller(controller), chunk);
  }

  onResponseEnd(controller: Controller, trailers: Headers): void {
    this.handler.onResponseEnd?.(this.controller(controller), trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    this.handler.onResponseError?.(this.controller(controller), error);
  }
}
