/**
 * One parent slot's life: check the file, prepare it (orientation, 2048 px,
 * metadata gone), seal it, upload it with progress, or reuse a photo already
 * uploaded. Picking again cancels the work in flight.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, describeError } from "../../lib/api/problem";
import { PhotoRejected, preparePhoto } from "../../lib/photo-prepare";
import { useAuth } from "../auth/context";
import { apiHref, sealAndUpload, UploadTooLarge, uploadKeyQuery, type Photo, type UploadKey } from "./api";

export interface SlotPreview {
  /** blob: URL of the prepared JPEG, or the signed thumbnail of a reused photo. */
  url: string;
  width: number;
  height: number;
  /** What preparation did, in words (for a new photo). */
  note: string | null;
}

export type SlotState =
  | { status: "empty" }
  | { status: "preparing"; fileName: string }
  | { status: "sealing"; preview: SlotPreview }
  | { status: "uploading"; preview: SlotPreview; loaded: number; total: number }
  | { status: "ready"; preview: SlotPreview; photo: Photo; reused: boolean }
  | { status: "error"; message: string; preview: SlotPreview | null; code: string | null };

const kb = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} KB`);

function errorMessage(err: unknown): string {
  if (err instanceof PhotoRejected || err instanceof UploadTooLarge) return err.message;
  // The API's detail names the endpoint to call; say what it means for the person instead.
  if (err instanceof ApiError && err.code === "consent_required") {
    return "We no longer have your consent on record (it was withdrawn, or our terms changed), so the photo was not accepted.";
  }
  return describeError(err);
}

const errorCode = (err: unknown) => (err instanceof ApiError ? err.code : err instanceof PhotoRejected ? err.reason : null);

export function usePhotoSlot(userId: string | undefined) {
  const { getToken, onUnauthorized } = useAuth();
  const queryClient = useQueryClient();
  const [state, setState] = useState<SlotState>({ status: "empty" });
  const controller = useRef<AbortController | null>(null);
  const blobUrl = useRef<string | null>(null);

  const releaseBlob = useCallback(() => {
    if (blobUrl.current) URL.revokeObjectURL(blobUrl.current);
    blobUrl.current = null;
  }, []);

  useEffect(
    () => () => {
      controller.current?.abort();
      releaseBlob();
    },
    [releaseBlob],
  );

  const getKey = useCallback(
    async (fresh: boolean): Promise<UploadKey> => {
      if (fresh) await queryClient.invalidateQueries({ queryKey: uploadKeyQuery.queryKey });
      return queryClient.fetchQuery(uploadKeyQuery);
    },
    [queryClient],
  );

  const begin = useCallback(() => {
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    releaseBlob();
    return c;
  }, [releaseBlob]);

  const pick = useCallback(
    async (file: File) => {
      const c = begin();
      const alive = () => !c.signal.aborted;
      setState({ status: "preparing", fileName: file.name });
      let preview: SlotPreview | null = null;
      try {
        if (!userId) throw new Error("Your account is still loading; try again in a moment.");
        const prepared = await preparePhoto(file);
        if (!alive()) return;
        const url = URL.createObjectURL(prepared.blob);
        blobUrl.current = url;
        const resized = prepared.width !== prepared.sourceWidth || prepared.height !== prepared.sourceHeight;
        preview = {
          url,
          width: prepared.width,
          height: prepared.height,
          note:
            `${resized ? `Resized from ${prepared.sourceWidth} × ${prepared.sourceHeight} to` : "Kept at"} ${prepared.width} × ${prepared.height} px, ` +
            `${kb(prepared.bytes.byteLength)}. Location, camera details and any hidden data were removed.`,
        };
        const shown = preview;
        setState({ status: "sealing", preview: shown });
        const photo = await sealAndUpload({
          bytes: prepared.bytes,
          userId,
          getKey,
          getToken,
          onUnauthorized,
          onSealing: () => alive() && setState({ status: "sealing", preview: shown }),
          onProgress: ({ loaded, total }) => alive() && setState({ status: "uploading", preview: shown, loaded, total }),
          signal: c.signal,
        });
        if (!alive()) return;
        setState({ status: "ready", preview: shown, photo, reused: false });
        void queryClient.invalidateQueries({ queryKey: ["photos"] });
      } catch (err) {
        if (!alive()) return;
        setState({ status: "error", message: errorMessage(err), preview, code: errorCode(err) });
      }
    },
    [begin, userId, getKey, getToken, onUnauthorized, queryClient],
  );

  const reuse = useCallback(
    (photo: Photo) => {
      begin();
      if (!photo.url) {
        setState({ status: "error", message: "This photo has no preview link; reload the page and try again.", preview: null, code: null });
        return;
      }
      setState({
        status: "ready",
        preview: { url: apiHref(photo.url), width: photo.width, height: photo.height, note: null },
        photo,
        reused: true,
      });
    },
    [begin],
  );

  const clear = useCallback(() => {
    begin();
    setState({ status: "empty" });
  }, [begin]);

  return { state, pick, reuse, clear };
}
