// A TCP proxy the test owns, on loopback: every connection to listen_port is piped to
// target_port. Cut() makes it a black hole, as a network partition does: nothing passes either
// way any more (connections stay open, new ones are accepted and hear nothing), so the client
// behind it sees requests time out. Restore() heals it: the connections that lived through the cut
// are closed (their byte streams lost data) and new ones are piped again.
// Used with a broker's CUT listener (compose/kafka/broker.sh, KAFKA-BROKER.md): a client
// bootstrapped through the proxy reaches the broker only through it.
// Thread: one io thread of its own; Cut, Restore and the destructor from any one thread.
#pragma once

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>
#include <future>
#include <list>
#include <memory>
#include <thread>

namespace keyledger::testing {

class TcpProxy {
 public:
  TcpProxy(std::uint16_t listen_port, std::uint16_t target_port)
      : listen_port_(listen_port), target_port_(target_port), work_(boost::asio::make_work_guard(io_)) {
    thread_ = std::thread([this] { io_.run(); });
    listening_ = Restore();
  }
  ~TcpProxy() {
    RunOnIo([this] {
      boost::system::error_code ec;
      if (acceptor_) acceptor_->close(ec);
      for (auto& pipe : pipes_) {
        pipe->client.close(ec);
        pipe->server.close(ec);
      }
      pipes_.clear();
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // A free loopback port for the proxy (before the broker that advertises it starts), below the
  // kernel's ephemeral range: a client reconnecting to a closed port in that range can be handed
  // that very port as its own and connect to itself (TCP simultaneous open), which then holds the
  // port and keeps Restore from listening on it again.
  static std::uint16_t FreePort() {
    int low = 32768;
    if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
      if (std::fscanf(f, "%d", &low) != 1) low = 32768;
      std::fclose(f);
    }
    std::random_device seed;
    std::mt19937 rng(seed());
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const auto port = static_cast<std::uint16_t>(10000 + rng() % static_cast<unsigned>(std::max(1, low - 10000)));
      boost::asio::io_context io;
      boost::asio::ip::tcp::acceptor a(io);
      boost::system::error_code ec;
      boost::asio::ip::tcp::endpoint at(boost::asio::ip::make_address("127.0.0.1"), port);
      a.open(at.protocol(), ec);
      if (!ec) a.bind(at, ec);
      if (!ec) return port;
    }
    return 0;
  }

  // From now on nothing passes; returns once that holds.
  void Cut() {
    RunOnIo([this] { cut_ = true; });
  }
  // Closes every connection that lived through the cut; new ones are piped again. Listens first
  // if it was not (the constructor's attempt failed); false if it cannot.
  [[nodiscard]] bool Restore() {
    bool ok = false;
    RunOnIo([this, &ok] {
      cut_ = false;
      boost::system::error_code ec;
      for (auto& pipe : pipes_) {
        pipe->client.close(ec);
        pipe->server.close(ec);
      }
      pipes_.clear();
      if (!acceptor_) {
        acceptor_ = std::make_unique<boost::asio::ip::tcp::acceptor>(io_);
        boost::asio::ip::tcp::endpoint at(boost::asio::ip::make_address("127.0.0.1"), listen_port_);
        acceptor_->open(at.protocol(), ec);
        acceptor_->set_option(boost::asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_->bind(at, ec);
        if (!ec) acceptor_->listen(64, ec);
        if (ec) {
          acceptor_.reset();
          return;
        }
        Accept();
      }
      ok = true;
    });
    return ok;
  }
  std::uint16_t port() const { return listen_port_; }
  // Whether the constructor got the port.
  bool listening() const { return listening_; }

 private:
  struct Pipe {
    explicit Pipe(boost::asio::io_context& io) : client(io), server(io) {}
    boost::asio::ip::tcp::socket client, server;
    std::array<char, 16384> up{}, down{};
  };

  template <typename F>
  void RunOnIo(F f) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void Accept() {
    auto pipe = std::make_shared<Pipe>(io_);
    acceptor_->async_accept(pipe->client, [this, pipe](boost::system::error_code ec) {
      if (ec) return;
      pipes_.push_back(pipe);
      if (cut_) {
        Pump(pipe, &pipe->client, nullptr, &pipe->up);  // heard, never answered
      } else {
        boost::asio::ip::tcp::endpoint target(boost::asio::ip::make_address("127.0.0.1"), target_port_);
        pipe->server.async_connect(target, [this, pipe](boost::system::error_code cec) {
          if (cec) return Close(pipe);
          Pump(pipe, &pipe->client, &pipe->server, &pipe->up);
          Pump(pipe, &pipe->server, &pipe->client, &pipe->down);
        });
      }
      Accept();
    });
  }

  // Copies `from` to `to`; while cut, what arrives is dropped (`to` null: always dropped).
  void Pump(const std::shared_ptr<Pipe>& pipe, boost::asio::ip::tcp::socket* from, boost::asio::ip::tcp::socket* to,
            std::array<char, 16384>* buffer) {
    from->async_read_some(boost::asio::buffer(*buffer), [=, this](boost::system::error_code ec, size_t n) {
      if (ec) return Close(pipe);
      if (cut_ || to == nullptr) return Pump(pipe, from, to, buffer);
      boost::asio::async_write(*to, boost::asio::buffer(buffer->data(), n),
                               [=, this](boost::system::error_code wec, size_t) {
                                 if (wec) return Close(pipe);
                                 Pump(pipe, from, to, buffer);
                               });
    });
  }

  void Close(const std::shared_ptr<Pipe>& pipe) {
    boost::system::error_code ec;
    pipe->client.close(ec);
    pipe->server.close(ec);
    pipes_.remove(pipe);
  }

  const std::uint16_t listen_port_;
  const std::uint16_t target_port_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::list<std::shared_ptr<Pipe>> pipes_;
  bool cut_ = false;
  bool listening_ = false;
  std::thread thread_;
};

}  // namespace keyledger::testing
