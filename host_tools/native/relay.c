// The guestfwd relay as a native program: board connections to the PC, handed over by
// QEMU. It does what host_tools/relay.py does (read that file's docstring first), without
// starting a Python interpreter for every board connection.
//
//     stm32lab-relay HOST:PORT [--log FILE]
//     stm32lab-relay --listen PATH HOST:PORT [--log FILE]
//
// The first form serves one connection: slirp runs it once per board connection
// (guestfwd ...-cmd:) with that connection as fds 0, 1 and 2 (one socket), so messages go
// to the log file (or nowhere), never to fd 2 as it is. Starting it costs QEMU a fork of
// itself (twice: glib's spawn) per connection, a few milliseconds of stalled guest.
//
// The second form is the launcher's persistent relay (guestfwd ...-unix:PATH, our QEMU
// patch 0015): it listens on the Unix socket PATH, which slirp connects to for every
// board connection without waiting for anything, and serves each connection in a child of
// its own. It prints "listening" on stdout once PATH takes connections, and exits when
// its stdin ends (the launcher holds the other end of that pipe: it stopped or died).
//
// The target must be an IPv4 loopback address (network rule: 127.0.0.0/8); nothing is
// looked up. Each direction ends with a half-close of the other side, and the other
// direction goes on until it ends too: no timeout cuts a slow reply short. When the target
// cannot be reached, the board's connection is reset, the nearest slirp has to a refused
// connect. Exit status of a connection: 0 when both directions ended, 1 when the target is
// refused or unreachable or a copy fails; 2 on a bad command line; --listen: 0 when its
// stdin ended, 1 when PATH cannot be listened on or the target is not loopback.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000

static const char *target_text = "";

static int is_socket(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int fail(const char *why, int err) {
    if (err) {
        fprintf(stderr, "board relay: cannot reach %s: %s: %s\n", target_text, why,
                strerror(err));
    } else {
        fprintf(stderr, "board relay: cannot reach %s: %s\n", target_text, why);
    }
    return 1;
}

// HOST:PORT to an address, HOST an IPv4 literal in 127.0.0.0/8 (or "localhost").
static int parse_target(const char *text, struct sockaddr_in *addr) {
    const char *colon = strrchr(text, ':');
    char host[64];
    if (colon == NULL || (size_t)(colon - text) >= sizeof(host)) {
        return fail("not HOST:PORT", 0);
    }
    memcpy(host, text, colon - text);
    host[colon - text] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || port < 1 || port > 65535) {
        return fail("the port is not a number from 1 to 65535", 0);
    }
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    if (strcasecmp(host, "localhost") == 0) {
        addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (inet_pton(AF_INET, host, &addr->sin_addr) != 1
               || (ntohl(addr->sin_addr.s_addr) >> 24) != 127) {
        return fail("only loopback addresses are allowed (network rule): 127.0.0.0/8", 0);
    }
    return 0;
}

// A blocking TCP socket connected to addr, or -1 (reported) after CONNECT_TIMEOUT_MS.
static int connect_to(const struct sockaddr_in *addr) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) {
        fail("socket", errno);
        return -1;
    }
    if (connect(s, (const struct sockaddr *)addr, sizeof(*addr)) != 0) {
        if (errno != EINPROGRESS) {
            fail("connect", errno);
            close(s);
            return -1;
        }
        struct pollfd p = { .fd = s, .events = POLLOUT };
        int n;
        while ((n = poll(&p, 1, CONNECT_TIMEOUT_MS)) < 0 && errno == EINTR) {
        }
        int err = 0;
        socklen_t len = sizeof(err);
        if (n == 0) {
            err = ETIMEDOUT;
        } else if (n < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
        if (err) {
            fail("connect", err);
            close(s);
            return -1;
        }
    }
    int flags = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, flags & ~O_NONBLOCK);
    int one = 1;
    // The board's TLS records are small and interactive: send each one at once.
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return s;
}

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

// The end of one direction: half-close the side that receives it (closing fd 1 alone
// would leave the board's socket open through fds 0 and 2).
static void end_of_data(int fd) {
    if (is_socket(fd)) {
        shutdown(fd, SHUT_WR);
    } else {
        close(fd);
    }
}

static int copy(int board_in, int board_out, int pc) {
    static char buf[65536];
    struct pollfd fds[2] = {
        { .fd = board_in, .events = POLLIN },
        { .fd = pc, .events = POLLIN },
    };
    int open_sides = 2;
    while (open_sides > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "board relay: poll: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            ssize_t n = read(fds[i].fd, buf, sizeof(buf));
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            if (n < 0) {
                fprintf(stderr, "board relay: %s: read: %s\n", i == 0 ? "board" : "PC",
                        strerror(errno));
                return 1;
            }
            int to = i == 0 ? pc : board_out;
            if (n > 0) {
                if (write_all(to, buf, (size_t)n) != 0) {
                    fprintf(stderr, "board relay: %s: write: %s\n", i == 0 ? "PC" : "board",
                            strerror(errno));
                    return 1;
                }
                continue;
            }
            end_of_data(to);
            fds[i].fd = -1;
            open_sides--;
        }
    }
    return 0;
}

// Make the exit reset the board's connection instead of closing it: slirp, reading the
// reset on its end, resets the board's TCP connection, which the board reports as
// ECONNRESET (a close the moment the connection is made would reach the board while
// its connect() is still returning).
static void reset_board_on_exit(int board) {
    struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };
    if (is_socket(board)) {
        setsockopt(board, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
    }
}

// On a Unix socket (--listen) there are no resets: slirp sees one (and resets the board's
// connection) only when this end closes with data unread. So a relay that cannot reach the
// PC waits up to RESET_WAIT_MS for the board's first data (a TLS client's hello comes at
// once) and leaves it unread; a board that sends nothing sees an EOF instead.
#define RESET_WAIT_MS 1000

static void reset_unix_board(int board) {
    struct sockaddr_storage name;
    socklen_t len = sizeof(name);
    if (getsockname(board, (struct sockaddr *)&name, &len) == 0
            && name.ss_family == AF_UNIX) {
        struct pollfd p = { .fd = board, .events = POLLIN };
        while (poll(&p, 1, RESET_WAIT_MS) < 0 && errno == EINTR) {
        }
    }
}

// One board connection (board_in/board_out: the same socket, or a pipe pair) to addr.
static int serve(int board_in, int board_out, const struct sockaddr_in *addr) {
    int pc = connect_to(addr);
    if (pc < 0) {
        reset_board_on_exit(board_in);
        reset_unix_board(board_in);
        return 1;
    }
    int status = copy(board_in, board_out, pc);
    close(pc);
    return status;
}

// --listen: every connection to the Unix socket path, each in a child of its own (a
// relay that waits on a slow PC never holds up the next board connection).
static int listen_and_serve(const char *path, const struct sockaddr_in *addr) {
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(un.sun_path)) {
        fprintf(stderr, "board relay: the socket path %s is too long\n", path);
        return 1;
    }
    strcpy(un.sun_path, path);
    int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);   // a socket left by a launcher that died
    if (srv < 0 || bind(srv, (struct sockaddr *)&un, sizeof(un)) != 0
            || listen(srv, 64) != 0) {
        fprintf(stderr, "board relay: cannot listen on %s: %s\n", path, strerror(errno));
        return 1;
    }
    signal(SIGCHLD, SIG_IGN);    // children are reaped by the kernel
    printf("listening\n");
    fflush(stdout);
    int null = open("/dev/null", O_WRONLY);     // the launcher reads nothing more
    if (null >= 0) {
        dup2(null, 1);
        close(null);
    }
    struct pollfd fds[2] = {
        { .fd = 0, .events = POLLIN },      // the launcher's pipe: its end means stop
        { .fd = srv, .events = POLLIN },
    };
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "board relay: poll: %s\n", strerror(errno));
            break;
        }
        if (fds[0].revents) {
            char byte;
            if (read(0, &byte, 1) <= 0) {
                break;
            }
        }
        if (fds[1].revents & POLLIN) {
            int board = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
            if (board < 0) {
                if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
                    fprintf(stderr, "board relay: accept: %s\n", strerror(errno));
                }
                continue;
            }
            pid_t child = fork();
            if (child == 0) {
                close(srv);
                close(0);
                signal(SIGCHLD, SIG_DFL);
                _exit(serve(board, board, addr));
            }
            if (child < 0) {
                fprintf(stderr, "board relay: fork: %s\n", strerror(errno));
                reset_board_on_exit(board);
            }
            close(board);
        }
    }
    close(srv);
    unlink(path);
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: stm32lab-relay [--listen PATH] HOST:PORT [--log FILE]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *log_path = NULL;
    const char *listen_path = NULL;
    const char *target = NULL;
    int bad_usage = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
            log_path = argv[++i];
        } else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            listen_path = argv[++i];
        } else if (target == NULL && argv[i][0] != '-') {
            target = argv[i];
        } else {
            bad_usage = 1;
        }
    }
    // Before any message: fd 2 may be the board's socket.
    if (log_path != NULL || is_socket(2)) {
        int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0) {
            fd = open("/dev/null", O_WRONLY);
        }
        if (fd >= 0 && fd != 2) {
            dup2(fd, 2);
            close(fd);
        }
    }
    if (bad_usage || target == NULL) {
        return usage();
    }
    // A board that goes away mid-write is an error to report, not a silent death.
    signal(SIGPIPE, SIG_IGN);
    target_text = target;
    struct sockaddr_in addr;
    if (parse_target(target, &addr) != 0) {
        if (listen_path == NULL) {
            reset_board_on_exit(0);
        }
        return 1;
    }
    if (listen_path != NULL) {
        return listen_and_serve(listen_path, &addr);
    }
    return serve(0, 1, &addr);
}
