/*
 * Socket system calls shared by the event backends: a non-blocking
 * writev (sendmsg with MSG_NOSIGNAL, and MSG_MORE when a file follows)
 * and sendfile, both answering 0 when the kernel takes nothing now.
 */
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "event/event.h"

ssize_t kite__sock_writev(int fd, const struct iovec *iov, int n, int more, int is_socket)
{
    struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
    ssize_t r;

    do
        r = is_socket ? sendmsg(fd, &mh, MSG_NOSIGNAL | (more ? MSG_MORE : 0)) : writev(fd, iov, n);
    while (r < 0 && errno == EINTR);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    return -errno;
}

ssize_t kite__sock_sendfile(int fd, int file, off_t *pos, size_t len)
{
    ssize_t r;

    do
        r = sendfile(fd, file, pos, len);
    while (r < 0 && errno == EINTR);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    return -errno;
}

int kite__sock_sendto(int fd, const void *buf, size_t len, const struct sockaddr *to,
                      unsigned tolen)
{
    ssize_t r;

    do
        r = sendto(fd, buf, len, MSG_NOSIGNAL, to, (socklen_t)tolen);
    while (r < 0 && errno == EINTR);
    if (r >= 0)
        return 0;
    return errno == EAGAIN || errno == EWOULDBLOCK ? KITE_EAGAIN : -errno;
}
