/** Where the create flow lives (web/src/routes/app/Create.tsx, built alongside). */
export const CREATE_PATH = "/app/create";
export const galleryItemPath = (id: string) => `/app/gallery/${id}`;
/** The create flow's live progress view, for generations still running. */
export const progressPath = (id: string) => `/app/generations/${id}`;
