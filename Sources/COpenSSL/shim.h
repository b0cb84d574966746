// OpenSSL's libcrypto, for its one-shot SHA-256 digest (EVP_Digest with EVP_sha256).
#include <openssl/evp.h>
