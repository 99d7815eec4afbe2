/** Where the create flow lives (web/src/routes/app/Create*, built alongside). */
export const CREATE_PATH = "/app/create";
export const galleryItemPath = (id: string) => `/app/gallery/${id}`;
