import { useEffect, useId, useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import { MAX_INPUT_BYTES } from "../../lib/photo-prepare";
import { PhotoPicker } from "./PhotoPicker";
import type { Photo } from "./api";
import type { FaceChoice, SlotPreview, SlotState } from "./usePhotoSlot";

export interface PhotoSlotProps {
  /** "mother" or "father": used in labels ("the mother's photo"). */
  parent: "mother" | "father";
  title: string;
  state: SlotState;
  onPick: (file: File) => void;
  /** The crop tool: keep one of the several faces found. */
  onChooseFace: (index: number) => void;
  onReuse: (photo: Photo) => void;
  onClear: () => void;
  /** The photo chosen in the other slot; it cannot be used twice. */
  otherPhotoId: string | null;
  /** The API refused for lack of consent: bring the consent step back. */
  onConsentNeeded: () => void;
}

const MAX_MB = Math.round(MAX_INPUT_BYTES / (1024 * 1024));

/** Phones and tablets get a "Take a photo" button (the `capture` attribute opens the camera app). */
function useCoarsePointer(): boolean {
  const [coarse] = useState(() => typeof window !== "undefined" && window.matchMedia("(pointer: coarse)").matches);
  return coarse;
}

function FacePreview({ preview, alt }: { preview: SlotPreview; alt: string }) {
  return (
    <figure className="face-frame">
      <div className="face-frame-box">
        <img src={preview.url} alt={alt} width={preview.width} height={preview.height} decoding="async" />
        <span className="face-guide" aria-hidden="true" />
      </div>
      <figcaption className="muted small" data-testid="sent-note">
        {preview.note ?? "A photo you uploaded earlier."}
      </figcaption>
    </figure>
  );
}

/** Where a face is, in words, for the buttons of the crop tool. */
function placeOf(box: FaceChoice["faces"][number], width: number): string {
  const cx = (box.x + box.width / 2) / width;
  return cx < 0.34 ? "on the left" : cx > 0.66 ? "on the right" : "in the middle";
}

/** Several faces: the photo (shown here only, never sent) with each face framed, and a button per face. */
function FaceChooser({ choice, parent, onChoose }: { choice: FaceChoice; parent: string; onChoose: (index: number) => void }) {
  const order = choice.faces.map((box, i) => ({ box, i })).sort((a, b) => a.box.x - b.box.x);
  return (
    <div className="face-chooser" data-testid="face-chooser">
      <p>Crop it to one face: choose the {parent}&apos;s face. Only a square around that face is sent.</p>
      <div className="face-chooser-photo">
        <img src={choice.url} alt={`The photo you chose, with the ${choice.faces.length} faces found framed and numbered`} width={choice.width} height={choice.height} />
        {order.map(({ box }, n) => (
          <span
            key={n}
            className="face-box"
            aria-hidden="true"
            style={{
              left: `${(box.x / choice.width) * 100}%`,
              top: `${(box.y / choice.height) * 100}%`,
              width: `${(box.width / choice.width) * 100}%`,
              height: `${(box.height / choice.height) * 100}%`,
            }}
          >
            <b>{n + 1}</b>
          </span>
        ))}
      </div>
      <ul className="face-chooser-list">
        {order.map(({ box, i }, n) => (
          <li key={i}>
            <button type="button" className="button button-secondary button-small" onClick={() => onChoose(i)}>
              Use face {n + 1} ({placeOf(box, choice.width)})<span className="visually-hidden"> for the {parent}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function stepText(state: SlotState): string {
  switch (state.status) {
    case "checking":
      return "Checking the face on this device; nothing is sent…";
    case "checked":
      return "The face passed the check. Nothing is sent until the other photo passes too.";
    case "sealing":
      return "Encrypting the photo…";
    case "uploading":
      return state.loaded >= state.total ? "Checking the photo on our side…" : "Uploading the encrypted photo…";
    case "ready":
      return state.reused ? "Using a photo you uploaded earlier." : "Uploaded and stored encrypted.";
    default:
      return "";
  }
}

export function PhotoSlot({ parent, title, state, onPick, onChooseFace, onReuse, onClear, otherPhotoId, onConsentNeeded }: PhotoSlotProps) {
  const id = useId();
  const coarse = useCoarsePointer();
  const [dragging, setDragging] = useState(false);
  const errorRef = useRef<HTMLParagraphElement>(null);
  const busy = state.status === "checking" || state.status === "sealing" || state.status === "uploading";
  const preview = state.status === "empty" || state.status === "checking" ? null : state.preview;

  // WCAG 2.2 SC 3.3.1: the error is announced (role=alert) and focus moves to it, next to its slot.
  useEffect(() => {
    if (state.status === "error") errorRef.current?.focus();
  }, [state]);

  // Chromium opens a file input on Space but not on Enter; a control that looks like a button should take both.
  const enterOpens = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    e.currentTarget.click();
  };

  const choose = (files: FileList | null) => {
    const file = files?.[0];
    if (file) onPick(file);
  };

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setDragging(false);
    if (!busy) choose(e.dataTransfer.files);
  };

  const pct = state.status === "uploading" && state.total > 0 ? Math.min(100, Math.round((state.loaded / state.total) * 100)) : 0;

  return (
    <section className="card photo-slot" aria-labelledby={`${id}-title`} data-testid={`slot-${parent}`}>
      <h3 id={`${id}-title`}>{title}</h3>

      {preview ? (
        <FacePreview preview={preview} alt={`The ${parent}'s photo as it will be sent`} />
      ) : (
        <div
          className={`dropzone${dragging ? " is-dragging" : ""}`}
          data-testid={`dropzone-${parent}`}
          onDragEnter={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = "copy";
          }}
          onDragLeave={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
          }}
          onDrop={onDrop}
        >
          <p className="dropzone-hint" id={`${id}-hint`}>
            Drop a photo here, or
          </p>
          <div className="dropzone-actions">
            <input
              id={`${id}-file`}
              className="visually-hidden"
              type="file"
              accept="image/*"
              disabled={busy}
              onKeyDown={enterOpens}
              aria-describedby={`${id}-hint ${id}-rules`}
              onChange={(e) => {
                choose(e.currentTarget.files);
                e.currentTarget.value = "";
              }}
            />
            <label htmlFor={`${id}-file`} className="button file-button">
              Choose a photo<span className="visually-hidden"> of the {parent}</span>
            </label>
            {coarse && (
              <>
                <input
                  id={`${id}-camera`}
                  className="visually-hidden"
                  type="file"
                  accept="image/*"
                  capture="user"
                  disabled={busy}
                  onKeyDown={enterOpens}
                  onChange={(e) => {
                    choose(e.currentTarget.files);
                    e.currentTarget.value = "";
                  }}
                />
                <label htmlFor={`${id}-camera`} className="button button-secondary file-button">
                  Take a photo<span className="visually-hidden"> of the {parent}</span>
                </label>
              </>
            )}
          </div>
          <p className="muted small" id={`${id}-rules`}>
            JPEG, PNG, WebP or HEIC, up to {MAX_MB} MB, at least 256 px on each side. One clear face, looking at the camera: it is checked on this device first, and only a square around it is sent.
          </p>
        </div>
      )}

      <p role="status" className="slot-status" data-testid={`status-${parent}`}>
        {busy && <span className="spinner" aria-hidden="true" />}
        {stepText(state)}
      </p>

      {state.status === "uploading" && (
        <div className="upload-progress">
          <label htmlFor={`${id}-progress`}>
            Upload of the {parent}&apos;s photo: {pct}%
          </label>
          <progress id={`${id}-progress`} max={100} value={pct} data-testid={`progress-${parent}`}>
            {pct}%
          </progress>
        </div>
      )}

      {state.status === "error" && (
        <p ref={errorRef} tabIndex={-1} role="alert" className="notice notice-error" data-testid={`error-${parent}`}>
          <strong>That photo did not work.</strong> {state.message}
        </p>
      )}
      {state.status === "error" && state.choice && <FaceChooser choice={state.choice} parent={parent} onChoose={onChooseFace} />}

      {(state.status === "ready" || state.status === "checked" || state.status === "error") && (
        <p className="slot-actions">
          {state.status === "error" && state.code === "consent_required" && (
            <button type="button" className="button button-small" onClick={onConsentNeeded}>
              Confirm consent again
            </button>
          )}{" "}
          <button type="button" className="button button-secondary button-small" onClick={onClear}>
            {state.status === "error" ? "Start again" : "Choose another photo"}
            <span className="visually-hidden"> for the {parent}</span>
          </button>
        </p>
      )}

      {!busy && state.status !== "ready" && state.status !== "checked" && <PhotoPicker parent={parent} excludeId={otherPhotoId} onChoose={onReuse} />}
    </section>
  );
}
