/** What a queue job handler is: the dispatcher (worker/queue/consumer.ts) calls one per message kind. */
import type { ParsedJobMessage } from "../queue/messages";
import type { Services } from "./types";

export type JobHandler = (s: Services, msg: ParsedJobMessage, ctx: { attempts: number; deadLetter: boolean }) => Promise<void>;
