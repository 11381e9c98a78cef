/* ThreadSanitizer builds only (preset `tsan`): C11 threads on top of POSIX threads.
 *
 * Debian's librdkafka creates its threads with C11 thrd_create() and locks with mtx_*()/cnd_*().
 * Neither g++ 12's libtsan nor clang 14's intercepts those, so under TSan a librdkafka thread has
 * no TSan state (the process dies with SEGV at the first instrumented call on it) and its locks
 * are invisible (every hand-over through librdkafka would be reported as a race). Defining the C11
 * functions in the executable interposes glibc's: they forward to the pthread functions TSan does
 * intercept, which is what glibc itself does underneath (mtx_t and cnd_t are a pthread_mutex_t and
 * a pthread_cond_t). Nothing here is linked into other builds. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

struct keyledger_thrd_start {
  thrd_start_t func;
  void* arg;
};

static void* keyledger_thrd_trampoline(void* p) {
  struct keyledger_thrd_start start = *(struct keyledger_thrd_start*)p;
  free(p);
  return (void*)(intptr_t)start.func(start.arg);
}

static int keyledger_thrd_result(int err) {
  return err == 0 ? thrd_success : err == ENOMEM ? thrd_nomem : err == EBUSY ? thrd_busy
       : err == ETIMEDOUT ? thrd_timedout : thrd_error;
}

int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  struct keyledger_thrd_start* start = malloc(sizeof *start);
  if (start == NULL) return thrd_nomem;
  start->func = func;
  start->arg = arg;
  int err = pthread_create((pthread_t*)thr, NULL, keyledger_thrd_trampoline, start);
  if (err != 0) free(start);
  return keyledger_thrd_result(err);
}

int thrd_join(thrd_t thr, int* res) {
  void* value = NULL;
  int err = pthread_join((pthread_t)thr, &value);
  if (err == 0 && res != NULL) *res = (int)(intptr_t)value;
  return keyledger_thrd_result(err);
}

int thrd_detach(thrd_t thr) { return keyledger_thrd_result(pthread_detach((pthread_t)thr)); }

_Noreturn void thrd_exit(int res) { pthread_exit((void*)(intptr_t)res); }

int mtx_init(mtx_t* mtx, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  int err = pthread_mutex_init((pthread_mutex_t*)mtx, &attr);
  pthread_mutexattr_destroy(&attr);
  return keyledger_thrd_result(err);
}
int mtx_lock(mtx_t* mtx) { return keyledger_thrd_result(pthread_mutex_lock((pthread_mutex_t*)mtx)); }
int mtx_trylock(mtx_t* mtx) { return keyledger_thrd_result(pthread_mutex_trylock((pthread_mutex_t*)mtx)); }
int mtx_timedlock(mtx_t* restrict mtx, const struct timespec* restrict ts) {
  return keyledger_thrd_result(pthread_mutex_timedlock((pthread_mutex_t*)mtx, ts));
}
int mtx_unlock(mtx_t* mtx) { return keyledger_thrd_result(pthread_mutex_unlock((pthread_mutex_t*)mtx)); }
void mtx_destroy(mtx_t* mtx) { pthread_mutex_destroy((pthread_mutex_t*)mtx); }

int cnd_init(cnd_t* cnd) { return keyledger_thrd_result(pthread_cond_init((pthread_cond_t*)cnd, NULL)); }
int cnd_signal(cnd_t* cnd) { return keyledger_thrd_result(pthread_cond_signal((pthread_cond_t*)cnd)); }
int cnd_broadcast(cnd_t* cnd) { return keyledger_thrd_result(pthread_cond_broadcast((pthread_cond_t*)cnd)); }
int cnd_wait(cnd_t* cnd, mtx_t* mtx) {
  return keyledger_thrd_result(pthread_cond_wait((pthread_cond_t*)cnd, (pthread_mutex_t*)mtx));
}
int cnd_timedwait(cnd_t* restrict cnd, mtx_t* restrict mtx, const struct timespec* restrict ts) {
  return keyledger_thrd_result(pthread_cond_timedwait((pthread_cond_t*)cnd, (pthread_mutex_t*)mtx, ts));
}
void cnd_destroy(cnd_t* cnd) { pthread_cond_destroy((pthread_cond_t*)cnd); }

void call_once(once_flag* flag, void (*func)(void)) { pthread_once((pthread_once_t*)flag, func); }
