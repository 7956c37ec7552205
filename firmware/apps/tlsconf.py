# tlsconf: the board configuration's TLS settings (tls_min, tls_max, ciphers) applied to an
# ssl.SSLContext, for the SSL client and the HTTPS server alike.
#
#     tls_max=1.2
#     ciphers=DHE-RSA-AES256-SHA      # ST's original demo suite (TLS 1.2, not offered by default)

import ssl

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
_NAMES = {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}


def apply(ctx, cfg):
    """Set the context's TLS versions and, when configured, its suites (ssl.SSLError or
    ValueError name what is wrong)."""
    lo, hi = _VERSIONS[cfg.tls_min], _VERSIONS[cfg.tls_max]
    if lo > hi:
        raise ValueError("tls_min=%s is above tls_max=%s" % (cfg.tls_min, cfg.tls_max))
    ctx.minimum_version = lo
    ctx.maximum_version = hi
    if cfg.ciphers:
        ctx.set_ciphers(cfg.ciphers)


def summary(ctx):
    """'TLSv1.2-TLSv1.3': the versions the context negotiates, for the console."""
    return "%s-%s" % (_NAMES.get(ctx.minimum_version, "?"), _NAMES.get(ctx.maximum_version, "?"))
