// What the reception pipeline and the senders need from a channel: send a frame to everyone in
// range, hear frames, close. One frame is one V2X message (one datagram). A channel that can
// measure how busy it is (a radio, the simulated channel) says so with each frame; otherwise
// the pipeline estimates it from the frames heard (reception/channel-busy-ratio.ts).

export interface Frame {
  bytes: Uint8Array;
  /** The channel's own busy ratio (0..1) when it measures one. */
  busyRatio?: number;
  /** Where it came from, for logs (an address, a simulated station name). */
  from?: string;
}

export interface V2xTransport {
  /** Broadcasts one message. */
  send(bytes: Uint8Array): Promise<void>;
  /** Calls `fn` for every frame heard (not the station's own); returns an unsubscribe. */
  onFrame(fn: (frame: Frame) => void): () => void;
  close(): Promise<void>;
}
