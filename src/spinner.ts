/**
 * Something that moves while the network is slow: a spinner on stderr, shown
 * once requests have been outstanding for a moment, gone when they are. The
 * HTTP client reports its requests through `NetworkActivity`; the base
 * command owns the one spinner and clears it before anything else is printed.
 */

/** What the HTTP client tells about its requests: `begin()` when one starts; the function it returns when it is over. */
export type NetworkActivity = {begin(): () => void}

/** Quick answers show nothing: the spinner appears only after this long. */
const DELAY_MS = 300
const FRAME_MS = 80
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
const CLEAR_LINE = '\r\u{1B}[K'

export class Spinner implements NetworkActivity {
  private delay?: NodeJS.Timeout
  private frame = 0
  private pending = 0
  private shown = false
  private ticker?: NodeJS.Timeout

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly text = 'Waiting for Pipecat Cloud...',
  ) {}

  /**
   * A spinner for a person at a terminal, or undefined: never under --json,
   * when stderr is not a terminal, or when NO_COLOR or TERM=dumb ask for plain output.
   */
  static forTerminal(env: NodeJS.ProcessEnv, stream: NodeJS.WritableStream & {isTTY?: boolean}, isJson: boolean): Spinner | undefined {
    if (isJson || !stream.isTTY || Boolean(env.NO_COLOR) || env.TERM === 'dumb') return undefined
    return new Spinner(stream)
  }

  begin(): () => void {
    this.pending += 1
    if (this.pending === 1) {
      this.delay = setTimeout(() => {
        this.start()
      }, DELAY_MS)
      this.delay.unref()
    }

    let isOver = false
    return () => {
      if (isOver) return
      isOver = true
      this.pending -= 1
      if (this.pending === 0) this.stop()
    }
  }

  /** Takes the spinner off its line, so what is printed next starts clean; the next frame brings it back. */
  clear(): void {
    if (!this.shown) return
    this.stream.write(CLEAR_LINE)
    this.shown = false
  }

  /** Gone for good (until the next request): before an error is printed, and when the command ends. */
  stop(): void {
    clearTimeout(this.delay)
    clearInterval(this.ticker)
    this.delay = undefined
    this.ticker = undefined
    this.clear()
  }

  private render(): void {
    this.stream.write(`${CLEAR_LINE}${FRAMES[this.frame % FRAMES.length]} ${this.text}`)
    this.frame += 1
    this.shown = true
  }

  private start(): void {
    this.render()
    this.ticker = setInterval(() => {
      this.render()
    }, FRAME_MS)
    this.ticker.unref()
  }
}
