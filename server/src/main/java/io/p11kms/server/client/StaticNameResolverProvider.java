package io.p11kms.server.client;

import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Resolves {@code static:///host1:port1,host2:port2} to those servers, one address group each, for
 * a client that balances over a fixed list. Host names are looked up on every resolution (the
 * channel asks again when a server fails), off the channel's synchronization context.
 */
final class StaticNameResolverProvider extends NameResolverProvider {
  static final String SCHEME = "static";

  /** The target naming {@code endpoints}, percent-encoded where a URI needs it. */
  static String target(List<Endpoint> endpoints) {
    List<String> parts = endpoints.stream().map(Endpoint::authority).toList();
    try {
      return new URI(SCHEME, "", "/" + String.join(",", parts), null).toString();
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("cannot name endpoints " + parts, e);
    }
  }

  @Override
  public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    if (!SCHEME.equals(targetUri.getScheme())) {
      return null;
    }
    String path = targetUri.getPath();
    if (path == null || !path.startsWith("/")) {
      throw new IllegalArgumentException("expected static:///host:port,...: " + targetUri);
    }
    return new StaticNameResolver(Endpoint.parseList(path.substring(1)), args);
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 5;
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
    return List.of(InetSocketAddress.class);
  }

  private static final class StaticNameResolver extends NameResolver {
    private final List<Endpoint> endpoints;
    private final SynchronizationContext syncContext;
    private final Executor executor;
    private final boolean authorityPerServer;
    private Listener2 listener;
    private boolean resolving;
    private boolean shutdown;

    StaticNameResolver(List<Endpoint> endpoints, Args args) {
      this.endpoints = endpoints;
      this.syncContext = args.getSynchronizationContext();
      this.executor = args.getOffloadExecutor() != null ? args.getOffloadExecutor() : Runnable::run;
      // Each server is verified (TLS) as its own host, unless the caller named one authority.
      this.authorityPerServer = args.getOverrideAuthority() == null;
    }

    @Override
    public String getServiceAuthority() {
      return endpoints.get(0).authority();
    }

    @Override
    public void start(Listener2 listener) {
      this.listener = listener;
      resolve();
    }

    @Override
    public void refresh() {
      resolve();
    }

    private void resolve() {
      if (resolving || shutdown) {
        return;
      }
      resolving = true;
      executor.execute(
          () -> {
            List<EquivalentAddressGroup> groups = lookUp();
            syncContext.execute(
                () -> {
                  resolving = false;
                  if (shutdown) {
                    return;
                  }
                  if (groups.isEmpty()) {
                    listener.onError(
                        Status.UNAVAILABLE.withDescription("no endpoint resolves: " + endpoints));
                  } else {
                    listener.onResult2(ResolutionResult.newBuilder().setAddresses(groups).build());
                  }
                });
          });
    }

    /** One group per endpoint that resolves; an endpoint that does not is left out this time. */
    private List<EquivalentAddressGroup> lookUp() {
      List<EquivalentAddressGroup> groups = new ArrayList<>();
      for (Endpoint endpoint : endpoints) {
        List<SocketAddress> addresses = new ArrayList<>();
        try {
          for (InetAddress address : InetAddress.getAllByName(endpoint.host())) {
            addresses.add(new InetSocketAddress(address, endpoint.port()));
          }
        } catch (UnknownHostException e) {
          continue;
        }
        Attributes attributes =
            authorityPerServer
                ? Attributes.newBuilder()
                    .set(EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE, endpoint.authority())
                    .build()
                : Attributes.EMPTY;
        groups.add(new EquivalentAddressGroup(addresses, attributes));
      }
      return groups;
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }
  }
}
