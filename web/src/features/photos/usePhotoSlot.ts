/**
 * One parent slot's life: check the file, check the face on the device (a Web
 * Worker, issue 20), prepare only the face region (orientation, 2048 px,
 * metadata gone), wait until the other parent's photo has passed too, seal it,
 * upload it with progress; or reuse a photo already uploaded. Picking again
 * cancels the work in flight.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, describeError } from "../../lib/api/problem";
import { checkPhotoFile, encodePicture, PhotoRejected, type CropRegion } from "../../lib/photo-prepare";
import { useAuth } from "../auth/context";
import { FaceCheckUnavailable, findFaces } from "../face-check/check";
import { judge, judgeOne, type Box, type DetectedFace } from "../face-check/rules";
import { apiHref } from "../../lib/api/links";
import { sealAndUpload, UploadTooLarge, uploadKeyQuery, type Photo, type UploadKey } from "./api";

export interface SlotPreview {
  /** blob: URL of the prepared JPEG, or the signed thumbnail of a reused photo. */
  url: string;
  width: number;
  height: number;
  /** What preparation did, in words (for a new photo). */
  note: string | null;
}

/** Several faces were found: the whole photo, shown on this device only, and the faces to choose from. */
export interface FaceChoice {
  url: string;
  width: number;
  height: number;
  faces: Box[];
}

export type SlotState =
  | { status: "empty" }
  | { status: "checking"; fileName: string }
  /** The face passed; the crop waits here until the other parent's photo passes too. */
  | { status: "checked"; preview: SlotPreview }
  | { status: "sealing"; preview: SlotPreview }
  | { status: "uploading"; preview: SlotPreview; loaded: number; total: number }
  | { status: "ready"; preview: SlotPreview; photo: Photo; reused: boolean }
  | { status: "error"; message: string; preview: SlotPreview | null; code: string | null; choice?: FaceChoice };

/** A photo as the face check decoded it (maybe reduced), with its full size on screen and its file size. */
interface Checked {
  picture: ImageBitmap;
  width: number;
  height: number;
  bytes: number;
}

/** Passed the face check (or reused): the other slot may upload. */
export const hasPassed = (s: SlotState) => s.status === "checked" || s.status === "sealing" || s.status === "uploading" || s.status === "ready";

const kb = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} KB`);

function errorMessage(err: unknown): string {
  if (err instanceof PhotoRejected || err instanceof UploadTooLarge || err instanceof FaceCheckUnavailable) return err.message;
  // The API's detail names the endpoint to call; say what it means for the person instead.
  if (err instanceof ApiError && err.code === "consent_required") {
    return "We no longer have your consent on record (it was withdrawn, or our terms changed), so the photo was not accepted.";
  }
  return describeError(err);
}

const errorCode = (err: unknown) => (err instanceof ApiError ? err.code : err instanceof PhotoRejected ? err.reason : null);

export function usePhotoSlot(userId: string | undefined, uploadAllowed: boolean) {
  const { getToken, onUnauthorized } = useAuth();
  const queryClient = useQueryClient();
  const [state, setState] = useState<SlotState>({ status: "empty" });
  const controller = useRef<AbortController | null>(null);
  const blobUrl = useRef<string | null>(null);
  const originalUrl = useRef<string | null>(null);
  /** The checked crop, sealed and uploaded once uploads are allowed. */
  const pending = useRef<Uint8Array<ArrayBuffer> | null>(null);
  /** The picked photo as checked and the faces found, while the person chooses one. */
  const choosing = useRef<{ fileName: string; checked: Checked; faces: DetectedFace[] } | null>(null);

  const releaseBlob = useCallback(() => {
    for (const ref of [blobUrl, originalUrl]) {
      if (ref.current) URL.revokeObjectURL(ref.current);
      ref.current = null;
    }
    pending.current = null;
    choosing.current?.checked.picture.close();
    choosing.current = null;
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

  /**
   * Prepares only `crop` of the photo, from the picture the face check decoded (docs/decisions/0024: no
   * second decode of the file), closes that picture, and holds the crop until uploads are allowed.
   */
  const accept = useCallback(async (checked: Checked, crop: CropRegion, c: AbortController) => {
    const prepared = await encodePicture(checked.picture, checked, { crop }).finally(() => checked.picture.close());
    if (c.signal.aborted) return;
    const url = URL.createObjectURL(prepared.blob);
    blobUrl.current = url;
    pending.current = prepared.bytes;
    setState({
      status: "checked",
      preview: {
        url,
        width: prepared.width,
        height: prepared.height,
        note:
          `Only this square around the face is sent: ${prepared.width} × ${prepared.height} px, ${kb(prepared.bytes.byteLength)}, ` +
          `from a ${prepared.sourceWidth} × ${prepared.sourceHeight} photo. The rest of the photo stays on this device. ` +
          "Location, camera details and any hidden data were removed.",
      },
    });
  }, []);

  const fail = useCallback((err: unknown, preview: SlotPreview | null = null) => {
    setState({ status: "error", message: errorMessage(err), preview, code: errorCode(err) });
  }, []);

  const pick = useCallback(
    async (file: File) => {
      const c = begin();
      const alive = () => !c.signal.aborted;
      setState({ status: "checking", fileName: file.name });
      try {
        if (!userId) throw new Error("Your account is still loading; try again in a moment.");
        await checkPhotoFile(file);
        const { report, picture } = await findFaces(file);
        const checked: Checked = { picture, width: report.width, height: report.height, bytes: file.size };
        if (!alive()) {
          picture.close();
          return;
        }
        const verdict = judge(report);
        if (verdict.ok) {
          await accept(checked, verdict.crop, c);
          return;
        }
        if (verdict.reason === "several_faces") {
          const url = URL.createObjectURL(file);
          originalUrl.current = url;
          choosing.current = { fileName: file.name, checked, faces: verdict.faces };
          setState({
            status: "error",
            message: verdict.message,
            preview: null,
            code: "several_faces",
            choice: { url, width: report.width, height: report.height, faces: verdict.faces.map((f) => f.box) },
          });
          return;
        }
        picture.close();
        setState({ status: "error", message: verdict.message, preview: null, code: verdict.reason });
      } catch (err) {
        if (!alive()) return;
        fail(err);
      }
    },
    [begin, userId, accept, fail],
  );

  /** The crop tool: keep the face at `index` of the several found. */
  const chooseFace = useCallback(
    async (index: number) => {
      const chosen = choosing.current;
      const face = chosen?.faces[index];
      if (!chosen || !face) return;
      choosing.current = null; // its picture is this call's now: begin() must not close it
      const c = begin();
      setState({ status: "checking", fileName: chosen.fileName });
      try {
        const { checked } = chosen;
        const verdict = judgeOne(face, checked.width, checked.height);
        if (!verdict.ok) {
          checked.picture.close();
          setState({ status: "error", message: verdict.message, preview: null, code: verdict.reason });
          return;
        }
        await accept(checked, verdict.crop, c);
      } catch (err) {
        if (!c.signal.aborted) fail(err);
      }
    },
    [begin, accept, fail],
  );

  const upload = useCallback(
    async (bytes: Uint8Array<ArrayBuffer>, shown: SlotPreview) => {
      const c = controller.current ?? new AbortController();
      const alive = () => !c.signal.aborted;
      try {
        if (!userId) throw new Error("Your account is still loading; try again in a moment.");
        setState({ status: "sealing", preview: shown });
        const photo = await sealAndUpload({
          bytes,
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
        fail(err, shown);
      }
    },
    [userId, getKey, getToken, onUnauthorized, queryClient, fail],
  );

  // Nothing is sealed or sent until both parents' photos have passed the face check.
  useEffect(() => {
    if (state.status !== "checked" || !uploadAllowed || !pending.current) return;
    const bytes = pending.current;
    pending.current = null;
    void upload(bytes, state.preview);
  }, [state, uploadAllowed, upload]);

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

  return { state, pick, chooseFace, reuse, clear };
}
