// AliExpress's own endpoints the sweeps use, in one place. Known behaviour (public
// extensions that use them): the image upload is an mtop call, signed with MD5 over
// `token&time&appKey&data`, whose first answer is FAIL_SYS_TOKEN_EMPTY and sets the
// `_m_h5_tk` cookie (the token is the part before "_"); it answers a `fileId` that expires
// within minutes; the results page (or `search-pc`) shows the items for that file id. A
// block comes back as HTTP 200 with a redirect to a `punish` page, or an mtop
// FAIL_SYS_USER_VALIDATE / RGV587 answer.
export const AE_HOME = "https://www.aliexpress.com/";
export const AE_WWW_HOST = /^(?:www|[a-z]{2})\.aliexpress\.(?:com|us)$/i;
export const UPLOAD_HOST = "recom-acs.aliexpress.com";
export const UPLOAD_API = "mtop.relationrecommend.AliexpressRecommend.recommend";
export const UPLOAD_APP_KEY = "24815441";
export const UPLOAD_APP_ID = 21738;
export const RESULTS_PATH = "/w/wholesale-.html";
// The results page's own XHR for its items (captured with the page: shared/sites.js).
export const SEARCH_PC_PATH = "/fn/search-pc/index";
export const PUNISH_RE = /\/punish\b|[?&]x5secdata=|\/_____tmd_____\//i;

/** The image-search results page for an uploaded file id, on the sweep tab's storefront. */
export function imageResultsUrl(origin, fileId, now = Date.now()) {
  const url = new URL(RESULTS_PATH, origin);
  url.searchParams.set("isNewImageSearch", "y");
  url.searchParams.set("filename", fileId);
  url.searchParams.set("imageId", String(now));
  return url.href;
}

/** What the in-page upload needs (content/image-search.js), built from the constants. */
export function uploadRequest(jpegBase64) {
  return { jpegBase64, host: UPLOAD_HOST, api: UPLOAD_API, appKey: UPLOAD_APP_KEY,
    appId: UPLOAD_APP_ID, punish: PUNISH_RE.source };
}
