package cache

// VerifyAuthToken is verifyAuthToken, for the external tests.
var VerifyAuthToken = verifyAuthToken
