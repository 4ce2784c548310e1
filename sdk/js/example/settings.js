// Where the page finds the Vekst API, and the sdk key to use (an sdk key is made to be public in
// a page; never put an admin key here). Edit for your server.
window.VEKST_SETTINGS = {
  apiUrl: "http://127.0.0.1:8000",
  sdkKey: "vk_sdk_replace_me",
};
