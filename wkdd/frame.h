/*
 * frame.h: strict request framing (frame.c), what libmicrohttpd 0.9.75
 * lets through even with MHD_OPTION_STRICT_FOR_CLIENT: a request whose
 * framing two parsers could read two ways (a proxy in front, MHD behind)
 * is refused with 400 and its connection closed, rather than guessed at.
 */
#ifndef FRAME_H
#define FRAME_H

struct MHD_Connection;

/*
 * NULL if the request's head (method, version as sent, the headers MHD
 * parsed) is framed as wkdd accepts; else why not, a static string for
 * the debug log.  Refused: a version other than HTTP/1.0 and HTTP/1.1; a
 * blank or control byte in the target (url as sent: MHD 0.9.75 takes
 * "GET /a b HTTP/1.1" as the target "/a b"); a
 * GET or HEAD with Content-Length or Transfer-Encoding; Content-Length,
 * Transfer-Encoding or Host given twice; a header name that is not an
 * RFC 9110 token (whitespace before the colon, control bytes); HTTP/1.1
 * without Host.
 *
 * MHD_OPTION_STRICT_FOR_CLIENT 1 is not used: in 0.9.75 it does only
 * the last, and answers it 400 twice, and closes a target with a space
 * without an answer; it leaves all the rest to this check.
 */
const char	*frame_check(struct MHD_Connection *, const char *method,
		    const char *url, const char *version);

#endif /* FRAME_H */
