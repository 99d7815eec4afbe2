import { useEffect, useState } from "react";

/** The current time, refreshed every `everyMs` (a countdown's clock). */
export function useNow(everyMs = 60_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** "12 days 3 hours left" or "overdue by 5 hours". */
export function describeRemaining(dueMs: number, now: number): { text: string; overdue: boolean } {
  const ms = dueMs - now;
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86_400_000);
  const hours = Math.floor((abs % 86_400_000) / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  const parts = days > 0 ? [`${days} ${days === 1 ? "day" : "days"}`, `${hours} ${hours === 1 ? "hour" : "hours"}`] : [`${hours} ${hours === 1 ? "hour" : "hours"}`, `${minutes} min`];
  return ms >= 0 ? { text: `${parts.join(" ")} left`, overdue: false } : { text: `overdue by ${parts.join(" ")}`, overdue: true };
}
