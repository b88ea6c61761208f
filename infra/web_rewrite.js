// CloudFront Function (cloudfront-js-2.0) on the web app's default behaviour, viewer request: a route of the
// single-page app (/contacts/01H...) is answered with index.html, a file (/assets/index-AbC.js, /config.json)
// as it is. The API's paths (/v1/*) have a behaviour of their own and never reach this function; were one
// to, it passes unchanged, so the API's own 403s and 404s are never turned into the app's index.html.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === "/v1" || uri.indexOf("/v1/") === 0) {
    return request;
  }
  var last = uri.substring(uri.lastIndexOf("/") + 1);
  if (last.indexOf(".") === -1) {
    request.uri = "/index.html";
  }
  return request;
}
